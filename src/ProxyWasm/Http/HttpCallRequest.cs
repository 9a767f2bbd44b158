namespace ProxyWasm.Http;

/// <summary>An HTTP callout as the filter described it.</summary>
/// <param name="Upstream">Upstream (cluster) name the filter passed.</param>
/// <param name="Headers">Headers including <c>:method</c>, <c>:path</c>, <c>:authority</c>.</param>
/// <param name="Body">Request body (may be empty).</param>
/// <param name="Trailers">Trailers (may be empty).</param>
/// <param name="Timeout">Effective timeout (guest's value, or the default when it passed 0).</param>
public sealed record HttpCallRequest(
    string Upstream,
    IReadOnlyList<KeyValuePair<string, string>> Headers,
    ReadOnlyMemory<byte> Body,
    IReadOnlyList<KeyValuePair<string, string>> Trailers,
    TimeSpan Timeout)
{
    /// <summary>The request the call is made for: the stream whose callback dispatched it while that request waits
    /// on the filter (the callback runs, or the filter is paused). Null for a call from a root context (a tick) or
    /// from a callback running while the request has moved on.</summary>
    public IHttpStreamHost? Origin { get; internal set; }

    /// <summary>First value of a header (case-insensitive), e.g. <c>:path</c>.</summary>
    public string? Header(string name)
        => Headers.FirstOrDefault(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value;
}
