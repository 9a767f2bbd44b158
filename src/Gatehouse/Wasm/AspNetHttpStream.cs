using Gatehouse.Proxy.Pipeline;
using ProxyWasm.Http;

namespace Gatehouse.Wasm;

/// <summary>The <see cref="IHttpStreamHost"/> of one proxied request: header maps over ASP.NET's request and
/// response, body buffers filled by the body phases, and Kong's properties.</summary>
internal sealed class AspNetHttpStream : IHttpStreamHost
{
    public AspNetHttpStream(ProxyContext context)
    {
        RequestHeaders = new AspNetHeaderMap(context.HttpContext, response: false);
        ResponseHeaders = new AspNetHeaderMap(context.HttpContext, response: true);
        Properties = new KongPropertyProvider(context);
    }

    public IHeaderMap RequestHeaders { get; }
    public IHeaderMap RequestTrailers { get; } = new HeaderMap();
    public IHeaderMap ResponseHeaders { get; }
    public IHeaderMap ResponseTrailers { get; } = new HeaderMap();
    public BodyBuffer RequestBody { get; } = new();
    public BodyBuffer ResponseBody { get; } = new();
    public IPropertyProvider? Properties { get; }
}
