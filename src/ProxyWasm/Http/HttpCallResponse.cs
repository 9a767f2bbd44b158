namespace ProxyWasm.Http;

/// <summary>
/// The result of an HTTP callout. <see cref="Failed"/> responses reach the guest as
/// <c>proxy_on_http_call_response(root, token, 0, 0, 0)</c> with <c>proxy_get_status</c> = (11, "reset") — Envoy behaviour.
/// </summary>
public sealed record HttpCallResponse(
    IReadOnlyList<KeyValuePair<string, string>> Headers,
    ReadOnlyMemory<byte> Body,
    IReadOnlyList<KeyValuePair<string, string>> Trailers)
{
    /// <summary>True when the call failed (connect error, reset, timeout).</summary>
    public bool Failed { get; init; }

    /// <summary>Failure reason exposed as the <c>proxy_get_status</c> message.</summary>
    public string FailureReason { get; init; } = "";

    /// <summary>A failed call.</summary>
    public static HttpCallResponse Failure(string reason) => new([], ReadOnlyMemory<byte>.Empty, []) { Failed = true, FailureReason = reason };

    /// <summary>A response with <c>:status</c> first, then <paramref name="headers"/>.</summary>
    public static HttpCallResponse Ok(int status, ReadOnlyMemory<byte> body, params (string Name, string Value)[] headers)
    {
        var list = new List<KeyValuePair<string, string>> { KeyValuePair.Create(":status", status.ToString(System.Globalization.CultureInfo.InvariantCulture)) };
        list.AddRange(headers.Select(h => KeyValuePair.Create(h.Name, h.Value)));
        return new HttpCallResponse(list, body, []);
    }
}
