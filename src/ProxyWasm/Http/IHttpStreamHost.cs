namespace ProxyWasm.Http;

/// <summary>
/// What one proxied request exposes to its filter contexts. The embedder implements it (or uses
/// <see cref="InMemoryHttpStream"/>); the host calls it only from inside a callback of the VM the request is
/// pinned to, so implementations need no locking.
/// </summary>
public interface IHttpStreamHost
{
    /// <summary>Request headers including <c>:method</c>, <c>:path</c>, <c>:authority</c>, <c>:scheme</c>.</summary>
    IHeaderMap RequestHeaders { get; }

    /// <summary>Request trailers (empty map when none).</summary>
    IHeaderMap RequestTrailers { get; }

    /// <summary>Response headers including <c>:status</c>; filters may add to it from request phases.</summary>
    IHeaderMap ResponseHeaders { get; }

    /// <summary>Response trailers (empty map when none).</summary>
    IHeaderMap ResponseTrailers { get; }

    /// <summary>Request body bytes currently visible to the filter (chunk or accumulated buffer).</summary>
    BodyBuffer RequestBody { get; }

    /// <summary>Response body bytes currently visible to the filter.</summary>
    BodyBuffer ResponseBody { get; }

    /// <summary>Request/connection/upstream/<c>kong.*</c> properties; null ⇒ only host built-ins.</summary>
    IPropertyProvider? Properties { get; }
}
