using Gatehouse.Proxy.Pipeline;
using ProxyWasm.Http;

namespace Gatehouse.Wasm;

/// <summary>The <see cref="IHttpStreamHost"/> of one proxied request: header maps over ASP.NET's request and
/// response, body buffers filled by the body phases, and Kong's properties.
/// Everything but the two header maps is created on first use: most filters never touch trailers, bodies or
/// properties, and this object exists for every filtered request. Trailer maps are over ASP.NET's trailers
/// (<see cref="AspNetTrailerMap"/>).</summary>
internal sealed class AspNetHttpStream : IHttpStreamHost
{
    private readonly ProxyContext _context;
    private AspNetTrailerMap? _requestTrailers, _responseTrailers;
    private BodyBuffer? _requestBody, _responseBody;
    private KongPropertyProvider? _properties;

    public AspNetHttpStream(ProxyContext context)
    {
        _context = context;
        RequestHeaders = new AspNetHeaderMap(context.HttpContext, response: false, context);
        ResponseHeaders = new AspNetHeaderMap(context.HttpContext, response: true);
    }

    /// <summary>The proxied request (its trace gets the spans of the HTTP calls its filters make).</summary>
    public ProxyContext Context => _context;
    public IHeaderMap RequestHeaders { get; }
    public IHeaderMap RequestTrailers => _requestTrailers ??= new AspNetTrailerMap(_context.HttpContext, response: false);
    public IHeaderMap ResponseHeaders { get; }
    public IHeaderMap ResponseTrailers => _responseTrailers ??= new AspNetTrailerMap(_context.HttpContext, response: true);
    public BodyBuffer RequestBody => _requestBody ??= new();
    public BodyBuffer ResponseBody => _responseBody ??= new();
    public IPropertyProvider? Properties => _properties ??= new KongPropertyProvider(_context);

    /// <summary>Returns the body buffers' pooled storage (the request is over and no filter context can read them).</summary>
    public void ReleaseBodies()
    {
        _requestBody?.Release();
        _responseBody?.Release();
    }
}
