using System.Text.Json.Serialization;

namespace Gatehouse.Proxy.Pipeline;

/// <summary>Source-generated JSON for the proxy's own answers (no reflection on the hot path).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(MessageBody))]
internal sealed partial class ProxyJsonContext : JsonSerializerContext;
