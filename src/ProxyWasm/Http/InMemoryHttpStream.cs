namespace ProxyWasm.Http;

/// <summary>An in-memory <see cref="IHttpStreamHost"/> for tests and simple embedders.</summary>
public sealed class InMemoryHttpStream : IHttpStreamHost
{
    /// <summary>Creates a stream for <paramref name="method"/> <paramref name="path"/> on <paramref name="authority"/>.</summary>
    public InMemoryHttpStream(string method = "GET", string path = "/", string authority = "localhost", string scheme = "http")
    {
        RequestHeaders = HeaderMap.Of((":method", method), (":path", path), (":authority", authority), (":scheme", scheme));
    }

    /// <inheritdoc />
    public HeaderMap RequestHeaders { get; }

    /// <inheritdoc />
    public HeaderMap RequestTrailers { get; } = new();

    /// <inheritdoc />
    public HeaderMap ResponseHeaders { get; } = new();

    /// <inheritdoc />
    public HeaderMap ResponseTrailers { get; } = new();

    /// <inheritdoc />
    public BodyBuffer RequestBody { get; } = new();

    /// <inheritdoc />
    public BodyBuffer ResponseBody { get; } = new();

    /// <inheritdoc />
    public IPropertyProvider? Properties { get; init; }

    IHeaderMap IHttpStreamHost.RequestHeaders => RequestHeaders;
    IHeaderMap IHttpStreamHost.RequestTrailers => RequestTrailers;
    IHeaderMap IHttpStreamHost.ResponseHeaders => ResponseHeaders;
    IHeaderMap IHttpStreamHost.ResponseTrailers => ResponseTrailers;
}
