using Gatehouse.Proxy.Pipeline;
using ProxyWasm.Http;

namespace Gatehouse.Wasm;

/// <summary>The <see cref="IHttpStreamHost"/> of one proxied request: header maps over ASP.NET's request and
/// response, body buffers filled by the body phases, and Kong's properties.
/// Everything but the two header maps is created on first use: most filters never touch trailers, bodies or
/// properties, and this object exists for every filtered request. Trailer maps are over ASP.NET's trailers
/// (<see cref="AspNetTrailerMap"/>). Reused by the next request of its chain's pool (<see cref="WasmRequestStatePool"/>):
/// <see cref="Begin"/> points it at a request; the header maps and body buffers are kept, the rest is made again.</summary>
internal sealed class AspNetHttpStream : IHttpStreamHost
{
    private readonly AspNetHeaderMap _requestHeaders = new(), _responseHeaders = new();
    private ProxyContext? _context;
    private AspNetTrailerMap? _requestTrailers, _responseTrailers;
    private BodyBuffer? _requestBody, _responseBody;
    private KongPropertyProvider? _properties;

    public AspNetHttpStream() { }

    public AspNetHttpStream(ProxyContext context) => Begin(context);

    /// <summary>Serves <paramref name="context"/> from now on.</summary>
    public void Begin(ProxyContext context)
    {
        _context = context;
        _requestHeaders.Begin(context.HttpContext, response: false, context);
        _responseHeaders.Begin(context.HttpContext, response: true);
    }

    /// <summary>The request is over: drops what refers to it (the body buffers' storage went back already).</summary>
    public void End()
    {
        _context = null;
        _requestHeaders.End();
        _responseHeaders.End();
        _requestTrailers = _responseTrailers = null;
        _properties = null;
    }

    /// <summary>The proxied request (its trace gets the spans of the HTTP calls its filters make).</summary>
    public ProxyContext Context => _context ?? throw new InvalidOperationException("the request is over");
    public IHeaderMap RequestHeaders => _requestHeaders;
    public IHeaderMap RequestTrailers => _requestTrailers ??= new AspNetTrailerMap(Context.HttpContext, response: false);
    public IHeaderMap ResponseHeaders => _responseHeaders;
    public IHeaderMap ResponseTrailers => _responseTrailers ??= new AspNetTrailerMap(Context.HttpContext, response: true);
    public BodyBuffer RequestBody => _requestBody ??= new();
    public BodyBuffer ResponseBody => _responseBody ??= new();
    public IPropertyProvider? Properties => _properties ??= new KongPropertyProvider(Context);

    /// <summary>Returns the body buffers' pooled storage (the request is over and no filter context can read them).</summary>
    public void ReleaseBodies()
    {
        _requestBody?.Release();
        _responseBody?.Release();
    }
}
