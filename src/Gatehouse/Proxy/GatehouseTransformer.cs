using Gatehouse.Proxy.Pipeline;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;
using Yarp.ReverseProxy.Forwarder;

namespace Gatehouse.Proxy;

/// <summary>
/// The YARP transformer for every proxied request. Request side: upstream URI from the router's path (wire form)
/// plus the client's query, Host (service host, or the client's with preserve_host), Kong's forwarding headers, connect
/// settings. Both sides drop the headers named in the message's Connection header (<see cref="ConnectionHeaders"/>).
/// Response side: timings, framing headers a bodiless status cannot carry, informational headers, then the
/// response-headers phase.
/// </summary>
internal sealed class GatehouseTransformer : HttpTransformer
{
    private readonly ProxySettings _settings;
    private readonly ILogger _logger;

    public GatehouseTransformer(ProxySettings settings, ILogger logger)
    {
        _settings = settings;
        _logger = logger;
    }

    /// <summary>The Host sent upstream (nginx's <c>$upstream_host</c>): the client's with preserve_host, else the peer's
    /// (target name or upstream host_header) or the service's host.</summary>
    internal static string? UpstreamHost(ProxyContext context)
    {
        var request = context.HttpContext.Request;
        if (context.Route?.PreserveHost == true && request.Host.HasValue) return request.Host.Value;
        return context.Target is { } target ? context.Peer?.HostHeader(target.Tls) ?? target.HostHeader : null;
    }

    public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest,
        string destinationPrefix, CancellationToken cancellationToken)
    {
        var context = httpContext.Features.Get<ProxyContext>()!;
        var target = context.Target!;
        // set before the base, which otherwise builds its own URI (strings and a Uri per request) only to be replaced
        proxyRequest.RequestUri = UpstreamUri(destinationPrefix, context.UpstreamPath, httpContext.Request.QueryString,
            context.Peer?.UriCache ?? target.UriCache);
        await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);
        var connection = httpContext.Request.Headers.Connection;
        if (connection.Count > 0) ConnectionHeaders.RemoveNamed(connection, proxyRequest);
        // the client's Host, copied raw by the base, goes first: set_Host would otherwise parse it only to replace it
        proxyRequest.Headers.Remove(HeaderNames.Host);
        proxyRequest.Headers.Host = UpstreamHost(context);
        ForwardedHeaders.Apply(httpContext, proxyRequest, context, _settings);
        // Options is created on first use: a per-request dictionary only for services that differ from the defaults
        if (!target.HasDefaultConnect) proxyRequest.Options.Set(ConnectSettings.Key, target.Connect);
        // a service host name is resolved by the connection (upstream peers are addresses, resolved off the request)
        if (target.Upstream is null && context.Trace is { } trace && trace.Traces(Config.TracedSteps.DnsQuery))
            proxyRequest.Options.Set(Tracing.DnsLookupProbe.Key, trace.DnsProbe ??= new());
        if (context.Plan.HasRequestBodyHandlers && !context.RequestBodyBuffered && proxyRequest.Content is not null)
            proxyRequest.Content.Headers.ContentLength = null;
        // a body held whole in memory goes out with its head in one send (HeldBodyHandler swaps the content: YARP refuses
        // a content replaced here). HTTP/1.x writes the content before it reads the response; with Expect: 100-continue
        // it may not, so that request keeps YARP's content, whose end YARP awaits before the held body is released.
        if (context.HeldRequestBody is { HeldInMemory: true } held && proxyRequest.Content is not null
            && proxyRequest.Version.Major == 1 && httpContext.Request.Headers.Expect.Count == 0)
            proxyRequest.Options.Set(HeldBodyHandler.Key, held);
        context.Timings.UpstreamStart = context.Timings.Now();
    }

    /// <summary>The path is already in wire form (<see cref="Routing.UriNormalizer.Escape"/>) and the query is the
    /// client's: Uri must not canonicalise them again (YARP's MakeDestinationAddress re-encodes a decoded
    /// PathString, which turned <c>%2F</c> into <c>%252F</c>). Without a query the destination's last URI is reused
    /// when it is the same (<see cref="UpstreamUriCache"/>).</summary>
    internal static Uri UpstreamUri(string destinationPrefix, string? upstreamPath, QueryString query, UpstreamUriCache? cache = null)
    {
        var path = string.IsNullOrEmpty(upstreamPath) ? "/" : upstreamPath;
        if (query.HasValue)
            return UpstreamUriCache.Create(string.Concat(destinationPrefix, path, Routing.UriNormalizer.EscapeQuery(query.Value!)));
        return cache is not null ? cache.Get(destinationPrefix, path) : UpstreamUriCache.Create(string.Concat(destinationPrefix, path));
    }

    /// <summary>YARP copies the upstream's trailers to the client's (HTTP/2); then, when the plan has trailer
    /// handlers and there are trailers, the response body's end of stream goes through the body handlers first and
    /// the trailers phase runs, as Envoy calls on_response_body before on_response_trailers. An HTTP/1.x response has
    /// no trailers (Kestrel offers no trailers feature there): nothing to copy nor run, not even a feature lookup.</summary>
    public override ValueTask TransformResponseTrailersAsync(HttpContext httpContext, HttpResponseMessage proxyResponse,
        CancellationToken cancellationToken)
    {
        var protocol = httpContext.Request.Protocol;
        if (HttpProtocol.IsHttp11(protocol) || HttpProtocol.IsHttp10(protocol)) return ValueTask.CompletedTask;
        return TransformTrailersAsync(httpContext, proxyResponse, cancellationToken);
    }

    private async ValueTask TransformTrailersAsync(HttpContext httpContext, HttpResponseMessage proxyResponse,
        CancellationToken cancellationToken)
    {
        await base.TransformResponseTrailersAsync(httpContext, proxyResponse, cancellationToken);
        var context = httpContext.Features.Get<ProxyContext>()!;
        if (context.Plan.ResponseTrailers.Count == 0) return;
        var trailers = httpContext.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpResponseTrailersFeature>()?.Trailers;
        if (trailers is null || trailers.IsReadOnly || trailers.Count == 0) return;
        if (httpContext.Response.Body is ResponseBodyFilterStream filter) await filter.CompleteAsync(cancellationToken);
        await PhaseRunner.ResponseTrailersAsync(context.Plan, context);
    }

    public override async ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse,
        CancellationToken cancellationToken)
    {
        var context = httpContext.Features.Get<ProxyContext>()!;
        if (proxyResponse is null) return await base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken);
        context.Timings.UpstreamHeaders = context.Timings.Now();
        context.UpstreamStatus = (int)proxyResponse.StatusCode;
        await base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken);
        ConnectionHeaders.RemoveNamed(proxyResponse, httpContext.Response.Headers);
        if (context.HashCookie is { } cookie) httpContext.Response.Headers.Append("Set-Cookie", cookie);
        // RFC 9110 §8.6: no Content-Length on a 204 (Kestrel refuses to send one); the upstream's body, if it sent
        // any, was never read (SocketsHttpHandler knows 204 has none), so the client gets the 204 as nginx sends it
        if (context.UpstreamStatus == StatusCodes.Status204NoContent) httpContext.Response.ContentLength = null;
        ResponseDecorator.Upstream(httpContext.Response, context, _settings);
        // the filter stream is there only for a plan with body handlers (StartForwarding): no feature lookup otherwise
        if (context.Plan.HasBodyHandlers && httpContext.Response.Body is ResponseBodyFilterStream filter)
            filter.ExpectedLength = proxyResponse.Content.Headers.ContentLength;
        try
        {
            await PhaseRunner.ResponseHeadersAsync(context.Plan, context);
            return true;
        }
        catch (Exception e)
        {
            // answered by the proxy as a 500 once YARP returns; the upstream body is not copied
            ProxyLog.UnexpectedError(_logger, e, httpContext.Request.Method, httpContext.Request.Path);
            context.Error = e;
            context.ReplaceLocalResponse(LocalResponse.Message(StatusCodes.Status500InternalServerError, ProxyMessages.Unexpected));
            return false;
        }
    }
}
