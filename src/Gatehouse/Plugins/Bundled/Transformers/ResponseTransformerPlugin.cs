using System.Text.Json.Nodes;
using Gatehouse.Entities;
using Gatehouse.Proxy.Pipeline;

namespace Gatehouse.Plugins.Bundled.Transformers;

/// <summary>Kong's response-transformer (priority 800): response headers, and the top level of JSON bodies
/// (buffered to the end of the body, then rewritten).</summary>
public sealed class ResponseTransformerPlugin : GatehousePlugin
{
    public override string Name => "response-transformer";
    public override int Priority => 800;
    public override IReadOnlyList<FieldDefinition> ConfigFields { get; } =
        [.. TransformSpec.Actions.Select(a => TransformSpec.ActionField(a, templates: false, ["json", "headers"]))];

    public override PluginHandler Create(JsonObject config, PluginBuildContext context) => new Handler(config);

    private sealed class Handler(JsonObject config) : PluginHandler
    {
        private const string JsonKey = "response-transformer.json";
        private readonly TransformSpec _headers = TransformSpec.Read(config, "headers");
        private readonly TransformSpec _json = TransformSpec.Read(config, "json");

        public override ValueTask HeaderFilterAsync(Kong kong)
        {
            HeaderTransform.Apply(_headers, kong.Response.Headers);
            if (!_json.IsEmpty && kong.Response.Headers.ContentType.ToString().Contains("json", StringComparison.OrdinalIgnoreCase))
                kong.Ctx[JsonKey] = true;
            return ValueTask.CompletedTask;
        }

        public override ValueTask<BodyOutcome> BodyFilterAsync(Kong kong, BodyChunk chunk)
        {
            if (!kong.Ctx.ContainsKey(JsonKey)) return ValueTask.FromResult(BodyOutcome.Continue);
            if (!chunk.EndOfStream) return ValueTask.FromResult(BodyOutcome.Buffer);
            try
            {
                if (JsonNode.Parse(chunk.Data.Span) is JsonObject body)
                {
                    JsonTransform.Apply(_json, body);
                    chunk.Replace(System.Text.Encoding.UTF8.GetBytes(body.ToJsonString()));
                }
            }
            catch (System.Text.Json.JsonException) { } // not JSON after all: passed on unchanged, as Kong
            return ValueTask.FromResult(BodyOutcome.Continue);
        }
    }
}
