using System.Text.Json;

namespace Gatehouse.Proxy.Pipeline;

/// <summary>A response the gateway produces itself (short-circuit, routing or upstream error): Kong's
/// <c>kong.response.exit</c>. Written by the proxy after the request-side phases, through the response phases.</summary>
public sealed class LocalResponse
{
    public int StatusCode { get; }
    public ReadOnlyMemory<byte> Body { get; }
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; }

    public LocalResponse(int statusCode, ReadOnlyMemory<byte> body, IReadOnlyList<KeyValuePair<string, string>>? headers = null)
    {
        if (statusCode is < 100 or > 599) throw new ArgumentOutOfRangeException(nameof(statusCode));
        StatusCode = statusCode;
        Body = body;
        Headers = headers ?? [];
    }

    /// <summary>Kong's error shape <c>{"message":"…"}</c> with a JSON content type.</summary>
    public static LocalResponse Message(int statusCode, string message, IReadOnlyList<KeyValuePair<string, string>>? headers = null)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(new MessageBody(message), ProxyJsonContext.Default.MessageBody);
        var all = new List<KeyValuePair<string, string>> { new("Content-Type", "application/json; charset=utf-8") };
        if (headers is not null) all.AddRange(headers);
        return new LocalResponse(statusCode, body, all);
    }
}

/// <summary>JSON body of gateway error answers.</summary>
public sealed record MessageBody(string Message);
