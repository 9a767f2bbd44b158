using Gatehouse.Model;
using Gatehouse.Proxy;
using Gatehouse.Routing;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Proxy.Pipeline;

/// <summary>
/// Everything one proxied request carries through the phases: the HTTP context, the matched route and service,
/// regex captures, a shared dictionary for handlers (Kong's <c>kong.ctx.shared</c>), timings, and the local response
/// when a handler short-circuits or the gateway answers an error. Created per request; never shared.
/// </summary>
public sealed class ProxyContext
{
    private Dictionary<string, object?>? _shared;

    public ProxyContext(HttpContext httpContext, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        ArgumentNullException.ThrowIfNull(time);
        HttpContext = httpContext;
        Timings = new ProxyTimings(time);
    }

    public HttpContext HttpContext { get; }
    public ProxyTimings Timings { get; }
    /// <summary>Null before routing or when no route matched.</summary>
    public RouteMatch? Match { get; internal set; }
    public RouteModel? Route => Match?.Route.Route;
    public ServiceModel? Service => Match?.Route.Service;
    public PathCaptures Captures => Match?.Captures ?? PathCaptures.None;
    /// <summary>The request path (no query) normalised by <see cref="UriNormalizer"/>: what the router matched on
    /// (Kong's <c>kong.request.get_path()</c>). Set before the rewrite phase; a filter's <c>:path</c> write replaces it.</summary>
    public string? RequestPath { get; internal set; }
    /// <summary>The upstream path (no query) the proxy will request, as sent on the wire (escaped, Kong's
    /// <c>$upstream_uri</c> without its query); handlers in access may change it.</summary>
    public string? UpstreamPath { get; set; }
    /// <summary>Data handlers share within this request.</summary>
    public IDictionary<string, object?> Shared => _shared ??= new Dictionary<string, object?>(StringComparer.Ordinal);
    /// <summary>Set when the request is answered without (or instead of) the upstream.</summary>
    public LocalResponse? LocalResponse { get; private set; }
    /// <summary>Status received from the upstream, if it answered.</summary>
    public int? UpstreamStatus { get; internal set; }
    /// <summary>The consumer an authentication plugin identified (<c>kong.client.authenticate</c>), for what the proxy
    /// itself needs of it: an upstream's <c>hash_on: consumer</c>.</summary>
    public Guid? AuthenticatedConsumerId { get; set; }
    /// <summary>The failure that ended the request, if any (handler exception, upstream error).</summary>
    public Exception? Error { get; internal set; }
    /// <summary>True when the request body was read whole before forwarding (route.request_buffering, or held to its
    /// end by request-body handlers): the upstream gets it with Content-Length even when body handlers changed it.</summary>
    internal bool RequestBodyBuffered { get; set; }
    /// <summary>The body route.request_buffering read whole (<see cref="RequestBuffering.ReadAsync"/>), until the request
    /// ends; null otherwise.</summary>
    internal SpillBuffer? HeldRequestBody { get; set; }
    /// <summary>The timings of a request that asked for request debugging (<see cref="RequestDebug"/>); null otherwise.</summary>
    public RequestDebugTrace? Debug { get; internal set; }
    /// <summary>Bytes of response body sent to the client so far (counted when access logging is on or a log handler,
    /// plugin or filter, may read it).</summary>
    public long ResponseBodyBytes { get; internal set; }

    /// <summary>Short-circuits with the given answer; return the result from a request-side handler.</summary>
    public PhaseOutcome Exit(LocalResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        LocalResponse = response;
        return PhaseOutcome.ShortCircuit;
    }

    /// <summary>Short-circuits with Kong's <c>{"message":…}</c> JSON body.</summary>
    public PhaseOutcome Exit(int statusCode, string message) => Exit(LocalResponse.Message(statusCode, message));

    /// <summary>The phase plan of this request (route plan, or global when unmatched).</summary>
    internal PhasePlan Plan { get; set; } = PhasePlan.Empty;
    /// <summary>Forwarding settings of the matched service.</summary>
    internal UpstreamTarget? Target { get; set; }
    /// <summary>The peer of the current try when the service balances over an upstream's targets.</summary>
    internal PeerEndpoint? Peer { get; set; }
    /// <summary>The balanced upstreams of this request's snapshot, by name (Kong's <c>kong.service.set_upstream</c>).</summary>
    internal System.Collections.Frozen.FrozenDictionary<string, BalancedUpstream>? Upstreams { get; init; }
    /// <summary>When the try on <see cref="Peer"/> began (Unix ms; Kong's <c>balancer_start</c>).</summary>
    internal long PeerStartedAtMs { get; set; }
    /// <summary>The failed tries before <see cref="Peer"/>; null while there was one try (<see cref="PeerTries"/>).</summary>
    internal List<PeerTry>? EarlierTries { get; set; }
    /// <summary>Set-Cookie value for a consistent-hashing upstream's <c>hash_on_cookie</c> the request lacked.</summary>
    internal string? HashCookie { get; set; }
    /// <summary>The plugin PDK of this request (<c>Plugins.Kong</c>), created by the first plugin that runs. Kept out of
    /// <see cref="Shared"/>, which is Kong's kong.ctx.shared and visible to plugins and filters.</summary>
    internal object? PluginState { get; set; }
    /// <summary>The Wasm filter chain's state of this request (<c>Wasm.WasmRequestState</c>), created in access.</summary>
    internal object? FilterState { get; set; }

    /// <summary>The client connection's activity on a proxy listener (null on test hosts without one).</summary>
    internal ConnectionActivity? Connection { get; init; }

    /// <summary>The Host header split into lower-case host and port (<see cref="RouteRequest.SplitHost"/>), through the
    /// connection's cache when there is one.</summary>
    internal (string Host, int? Port) SplitHost() =>
        Connection is { } connection ? connection.SplitHost(HttpContext.Request) : RouteRequest.SplitHost(HttpContext.Request.Host.Value);

    /// <summary>The request's spans when the snapshot traces requests; null otherwise.</summary>
    public Tracing.RequestTrace? Trace { get; internal set; }

    /// <summary>The trace before it is made (<see cref="Tracing.PendingTrace"/>): a field, changed in place.</summary>
    internal Tracing.PendingTrace PendingTrace;
    /// <summary>Steps of the header_filter and log phases this request passes over (<see cref="IPhaseHandler.SkipBits"/>,
    /// <see cref="PhasePlan.ResponseHeadersSkipBits"/>): set by a plugin that has nothing left to do for the request in
    /// its access step, e.g. the opentelemetry plugin on a request it did not sample. 0: every step runs.</summary>
    internal ulong SkippedSteps;

    internal void ReplaceLocalResponse(LocalResponse? response) => LocalResponse = response;
}
