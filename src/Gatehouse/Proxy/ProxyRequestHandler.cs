using Gatehouse.Config;
using Gatehouse.Proxy.Pipeline;
using Gatehouse.Proxy.Tracing;
using Gatehouse.Routing;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;

namespace Gatehouse.Proxy;

/// <summary>
/// The terminal request delegate of the proxy listeners: one request through Kong's phases.
/// <code>
///  (0) framing nginx refuses → 400/501, nothing else runs (<see cref="RequestFraming"/>)
///  (1) snapshot + context, normalised path → 400   (2) rewrite [global plan]   (3) route → 404 / https check → 426|3xx
///  (4) access [route plan]  (5) service → 503           (6) upstream via YARP (response headers phase inside)
///  (7) local answer if any (short-circuit, error)        (8) log phase + access log, always
/// </code>
/// </summary>
public sealed class ProxyRequestHandler
{
    private readonly ProxySnapshotProvider _snapshots;
    private readonly IHttpForwarder _forwarder;
    private readonly UpstreamConnector _connector;
    private readonly ProxySettings _settings;
    private readonly AccessLogWriter _accessLog;
    private readonly TimeProvider _time;
    private readonly ILogger<ProxyRequestHandler> _logger;
    private readonly GatehouseTransformer _transformer;
    private readonly GatewayCounters _counters;
    private readonly Action<IPhaseHandler, Exception> _logHandlerFailed;
    private readonly ProxyWasm.Runtime.LogRateLimiter _logLimiter;
    private readonly RequestDebug _requestDebug;

    public ProxyRequestHandler(ProxySnapshotProvider snapshots, IHttpForwarder forwarder, UpstreamConnector connector,
        ProxySettings settings, AccessLogWriter accessLog, TimeProvider time, GatewayCounters counters,
        ProxyWasm.Runtime.LogRateLimiter logLimiter, RequestDebug requestDebug, ILogger<ProxyRequestHandler> logger)
    {
        _requestDebug = requestDebug ?? throw new ArgumentNullException(nameof(requestDebug));
        _snapshots = snapshots ?? throw new ArgumentNullException(nameof(snapshots));
        _forwarder = forwarder ?? throw new ArgumentNullException(nameof(forwarder));
        _connector = connector ?? throw new ArgumentNullException(nameof(connector));
        _settings = settings ?? throw new ArgumentNullException(nameof(settings));
        _accessLog = accessLog ?? throw new ArgumentNullException(nameof(accessLog));
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        _counters = counters ?? throw new ArgumentNullException(nameof(counters));
        _logLimiter = logLimiter ?? throw new ArgumentNullException(nameof(logLimiter));
        _transformer = new GatehouseTransformer(settings, logger);
        _logHandlerFailed = (h, e) => ProxyLog.LogHandlerFailed(_logger, e, h.Name);
    }

    public Task InvokeAsync(HttpContext http) => InvokeAsync(http, ConnectionActivity.Of(http));

    /// <summary>One request, on a connection whose activity the caller has already looked up.</summary>
    internal async Task InvokeAsync(HttpContext http, ConnectionActivity? connection)
    {
        // :: Step 1: one snapshot for the whole request
        _counters.Begin(http, connection);
        var snapshot = _snapshots.Current;
        var context = new ProxyContext(http, _time) { Plan = snapshot.Pipeline.Global, Upstreams = snapshot.Upstreams, Connection = connection };
        // the trace is made at the first step that could record a span, or never when the sampler leaves the request out first
        if (snapshot.TracesRequests && _settings.TracedSteps != TracedSteps.None) context.PendingTrace.Begin(_settings.TracedSteps);
        http.Features.Set(context);
        var originalBody = http.Response.Body;
        var originalRequestBody = http.Request.Body;
        try
        {
            // :: Step 0: framing, before any handler (none runs on the refusal, not even in the log phase)
            if (RequestFraming.Check(http.Request) is { } refused)
            {
                context.Plan = PhasePlan.Empty;
                context.Exit(refused);
                await LocalResponseWriter.WriteAsync(context, _settings, runHandlers: false);
                return;
            }
            // nginx refuses the requests of a connection whose client certificate ssl_verify_client rejected, before Kong runs
            if (_settings.VerifiesClientCertificates && ClientCertificateVerdict.Of(http) is { Refusal: { } certificateRefusal } verdict)
            {
                ProxyLog.ClientCertificateRefused(_logger, certificateRefusal, verdict.Verify);
                context.Plan = PhasePlan.Empty;
                context.Exit(StatusCodes.Status400BadRequest, certificateRefusal);
                await LocalResponseWriter.WriteAsync(context, _settings, runHandlers: false);
                return;
            }
            if (await RequestPhasesAsync(context, snapshot) == PhaseOutcome.Continue)
            {
                // :: Step 6: upstream, awaited in this frame (one async state machine per request, not one per step)
                var forwarding = StartForwarding(context);
                var error = NothingToReport;
                try
                {
                    error = await SendAsync(context, forwarding);
                    // the body handlers' end of stream, in this frame: a plan whose only body step is the response's
                    // (every Proxy-Wasm SDK filter exports on_response_body) takes no extra async frame per request
                    if (error == ForwarderError.None && forwarding.Filter is { } filter && context.LocalResponse is null)
                        await filter.CompleteAsync(http.RequestAborted);
                }
                finally { await EndForwardingAsync(context, forwarding); }
                ReportForwardError(context, error);
            }
            // :: Step 7: answer locally when a handler or the gateway decided so
            if (context.LocalResponse is not null && !http.Response.HasStarted)
                await LocalResponseWriter.WriteAsync(context, _settings, runHandlers: true);
        }
        catch (Exception e)
        {
            await FailAsync(context, e);
        }
        finally
        {
            // only when replaced: assigning Body always installs a wrapping feature
            if (!ReferenceEquals(http.Response.Body, originalBody)) http.Response.Body = originalBody;
            if (!ReferenceEquals(http.Request.Body, originalRequestBody)) http.Request.Body = originalRequestBody;
            // :: Step 8: log phase, then the access log line
            context.Timings.End = context.Timings.Now();
            if (context.PendingTrace.IsPending) context.Trace = context.PendingTrace.Make(context.Timings); // ended before access
            if (context.Trace is { } trace) RequestSpan.End(trace, context);
            try
            {
                if (context.Plan.Log.Count > 0 && !IsWrittenWhole(context)) await CompleteResponseAsync(http);
                await PhaseRunner.LogAsync(context.Plan, context, _logHandlerFailed);
                context.Trace?.Complete(); // after the log phase: filters' on_log spans are exported too
                if (context.Debug is { } debug) _requestDebug.WriteLog(debug, context);
                _accessLog.Write(context);
            }
            finally { _counters.End(http, connection); }
        }
    }

    /// <summary>nginx logs a request once its response is sent: on HTTP/1.x its last bytes (a chunked body's end) are
    /// written before the log handlers run, on HTTP/2 its stream's last frame, so the bytes they see sent
    /// (<c>response.total_size</c>) are all of them. Kestrel would write them when the request returns (HTTP/2: its
    /// frame writer writes them after the response completes, waited for here up to <see cref="LastFrameWait"/>);
    /// an upgraded connection is left alone.</summary>
    private static async ValueTask CompleteResponseAsync(HttpContext http)
    {
        if (http.Response.StatusCode == StatusCodes.Status101SwitchingProtocols || http.RequestAborted.IsCancellationRequested
            || ConnectionActivity.Of(http) is not { } activity) return;
        var stream = activity.Http2Streams?.Of(http);
        if (!activity.CountsWireBytes && stream is null) return;
        // Kestrel's own feature: restoring Response.Body installed wrappers whose completion would only flush
        var body = http.Features.Get<IHttpResponseBodyFeature>();
        while (body is StreamResponseBodyFeature { PriorFeature: { } prior }) body = prior;
        if (body is null) return;
        try
        {
            await body.CompleteAsync();
            // a client that grants no flow-control window holds the last frame back: the log phase does not wait for it long
            if (stream is not null) await stream.WrittenAsync().WaitAsync(LastFrameWait, http.RequestAborted);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or OperationCanceledException or TimeoutException) { }
    }

    /// <summary>An HTTP/1.x response with a Content-Length whose body was written to the last byte: Kestrel flushed
    /// every write, and completing adds nothing to the wire (no chunked terminator), so the bytes the log handlers see
    /// are final already (most proxied responses; completing would cost a feature walk and a state machine).</summary>
    private static bool IsWrittenWhole(ProxyContext context)
    {
        var response = context.HttpContext.Response;
        return response.HasStarted && response.ContentLength is { } length && length == context.ResponseBodyBytes
            && (HttpProtocol.IsHttp11(context.HttpContext.Request.Protocol) || HttpProtocol.IsHttp10(context.HttpContext.Request.Protocol));
    }

    private static readonly TimeSpan LastFrameWait = TimeSpan.FromSeconds(5);

    private async ValueTask<PhaseOutcome> RequestPhasesAsync(ProxyContext context, ProxySnapshot snapshot)
    {
        var http = context.HttpContext;
        // the path every later step sees (router, upstream, plugins, filters); nginx answers 400 before Kong runs
        if (!TryNormalizePath(http, out var path)) return context.Exit(StatusCodes.Status400BadRequest, ProxyMessages.BadRequest);
        context.RequestPath = path;
        // Kong's request debugging: decided (and its request headers removed) before rewrite
        if (_requestDebug.Enabled) context.Debug = _requestDebug.Begin(http);
        if (context.PendingTrace.IsPending && snapshot.Pipeline.Global.Rewrite.Count > 0) context.Trace = context.PendingTrace.Make(context.Timings);
        // :: Step 2: rewrite, before routing (global handlers only)
        if (await PhaseRunner.RewriteAsync(snapshot.Pipeline.Global, context) == PhaseOutcome.ShortCircuit)
            return PhaseOutcome.ShortCircuit;
        // Kong's access span (request debugging) holds the router and the access handlers
        context.Debug?.Enter("access");
        UpstreamTarget? target;
        try
        {
            // :: Step 3: route
            context.Debug?.Enter("router");
            var routerSpan = context.Trace is { } trace && trace.Traces(TracedSteps.Router) ? trace.Open("kong.router") : null;
            context.PendingTrace.RouterStarted(context.Timings);
            var match = snapshot.Router.Match(ToRouteRequest(context, path));
            context.PendingTrace.RouterEnded(context.Timings);
            if (routerSpan is not null) Tracing.RequestTrace.Close(routerSpan);
            context.Debug?.Leave();
            if (match is null) return context.Exit(StatusCodes.Status404NotFound, ProxyMessages.NoRoute);
            context.Match = match;
            context.UpstreamPath = match.UpstreamPath;
            (var plan, target) = snapshot.For(match.Route);
            context.Plan = plan;
            if (HttpsRedirect.Check(context) is { } redirect) return context.Exit(redirect);
            // :: Step 4: access. The trace is made now, unless the sampler decides first that the request is not sampled
            if (context.PendingTrace.IsPending) DecideUpfront(context, plan);
            if (await PhaseRunner.AccessAsync(context.Plan, context) == PhaseOutcome.ShortCircuit)
                return PhaseOutcome.ShortCircuit;
        }
        finally { context.Debug?.Leave(); }
        // :: Step 5: a route without service cannot be proxied (a filter may have set its own target: kong.service.target)
        context.Target ??= target;
        if (context.Target is null) return context.Exit(StatusCodes.Status503ServiceUnavailable, ProxyMessages.NoService);
        return PhaseOutcome.Continue;
    }

    /// <summary>Makes the request's trace before the access phase, or leaves it unmade: when the sampler is the first
    /// access step (nothing before it can change the headers it extracts from) and leaves the request out; or when
    /// steps run ahead of it and it leaves the request out on the headers as they are now, decides again before its
    /// own step (<see cref="PendingTrace.Defer"/>, <see cref="PhaseRunner.AccessAsync"/>).</summary>
    private static void DecideUpfront(ProxyContext context, PhasePlan plan)
    {
        ref var pending = ref context.PendingTrace;
        var access = plan.Access;
        var at = 0;
        while (at < access.Count && access[at] is not IUpfrontSampler { DecidesSampling: true }) at++;
        var sampler = at < access.Count ? (IUpfrontSampler)access[at] : null;
        // a step ahead that records spans of its own needs the trace as it runs
        for (var i = 0; i < at && sampler is not null; i++)
            if (access[i].RecordsSpans) sampler = null;
        if (sampler is not null && at == 0 && sampler.LeavesOut(context, ahead: false)) pending.Drop();
        // request debugging takes the instrumented loop from the first step, which needs the trace
        else if (sampler is not null && at > 0 && context.Debug is null && sampler.LeavesOut(context, ahead: true)) pending.Defer(at);
        else
        {
            if (at > 0) pending.Undecide(); // the steps ahead may change the headers: the step decides as it runs
            context.Trace = pending.Make(context.Timings);
        }
    }

    /// <summary>The response (and request) body wrappers of one forwarded request, and the client's own response body.</summary>
    private readonly record struct Forwarding(Stream ClientBody, BufferedResponseStream? Buffered, ResponseBodyFilterStream? Filter,
        RequestBodyFilterStream? RequestFilter, bool CanHaveBody);

    /// <summary>What <see cref="SendAsync"/> returns when there is nothing to report: no peer (answered 503 already), the
    /// client went away while its body was read, or a body handler answered.</summary>
    private const ForwarderError NothingToReport = ForwarderError.NoAvailableDestinations;

    /// <summary>Step 6's set-up: response headers phase runs in the transformer, body phase through the stream.</summary>
    private Forwarding StartForwarding(ProxyContext context)
    {
        var http = context.HttpContext;
        var target = context.Target!;
        var route = context.Route!;
        var clientBody = http.Response.Body;
        // route.response_buffering (Kong's default): the upstream is read whatever the client's pace. grpc(s)
        // services always stream both ways, as Kong's @grpc location; HEAD has no body to hold; a gRPC-framed
        // request is one YARP completes itself right after the body (no held bytes may be left then).
        BufferedResponseStream? buffered = null;
        Stream downstream = clientBody;
        if (route.ResponseBuffering && !target.IsGrpc && !HttpMethods.IsHead(http.Request.Method) && !IsGrpcFramed(http.Request))
            downstream = buffered = new BufferedResponseStream(clientBody, _settings.ResponseTempDirectory, SpillLimits.ResponseFile, http.RequestAborted);
        ResponseBodyFilterStream? filter = null;
        if (context.Plan.HasBodyHandlers)
            downstream = filter = new ResponseBodyFilterStream(downstream, context, context.Plan);
        else if (_accessLog.Enabled || context.Plan.Log.Count > 0) // log handlers read the body size (response.size)
            downstream = new CountingStream(downstream, context);
        // set once: every assignment installs another response-body feature
        if (!ReferenceEquals(downstream, clientBody)) http.Response.Body = downstream;
        var canHaveBody = http.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody != false;
        RequestBodyFilterStream? requestFilter = null;
        if (context.Plan.ReadsRequestBody && canHaveBody)
            http.Request.Body = requestFilter = new RequestBodyFilterStream(http.Request.Body, context, context.Plan);
        return new Forwarding(clientBody, buffered, filter, requestFilter, canHaveBody);
    }

    /// <summary>Sends the request upstream. A request whose body is read first (request buffering: <see
    /// cref="SendBuffered"/>; handlers that hold it: <see cref="SendPrimedAsync"/>) sends it once read; any other gets
    /// the forwarder's own task (the response body handlers' end of stream is the caller's, after it).</summary>
    private ValueTask<ForwarderError> SendAsync(ProxyContext context, Forwarding forwarding)
    {
        var target = context.Target!;
        var bodyFirst = ReadsBodyFirst(context, forwarding);
        if (bodyFirst == BodyFirst.Buffer)
        {
            // a body read at once (received whole, RequestBuffering.TakeReceived): the forwarder's task is returned as
            // it is, with no state machine of our own around it
            var read = RequestBuffering.ReadAsync(context, _settings.RequestTempDirectory, clientBody: forwarding.RequestFilter is null,
                handlers: forwarding.RequestFilter);
            return read.IsCompletedSuccessfully ? SendBuffered(context, read.Result) : SendAfterReadAsync(context, read);
        }
        if (bodyFirst == BodyFirst.Prime)
            return SendPrimedAsync(context, forwarding);
        return target.Upstream is { } upstream
            ? SendBalancedAsync(context, target, upstream, null, bodyResendable: !forwarding.CanHaveBody)
            : SendDirectAsync(context, target);
    }

    private enum BodyFirst { No, Buffer, Prime }

    private static BodyFirst ReadsBodyFirst(ProxyContext context, Forwarding forwarding)
    {
        var target = context.Target!;
        // route.request_buffering (Kong's default): the whole body (after the body handlers) is read before the
        // upstream is contacted, and sent with Content-Length
        if (context.Route!.RequestBuffering && !target.IsGrpc && forwarding.CanHaveBody) return BodyFirst.Buffer;
        // a body the handlers hold to its end is sent with its length, as ngx_wasm_module's (gRPC streams on)
        if (forwarding.RequestFilter is not null && context.Plan.HasRequestBodyHandlers && !target.IsGrpc && !IsGrpcFramed(context.HttpContext.Request))
            return BodyFirst.Prime;
        return BodyFirst.No;
    }

    /// <summary>Sends a request whose body request buffering holds (kept on the context, HeldRequestBody, until
    /// EndForwardingAsync disposes it); nothing when the client went away or a body handler answered.</summary>
    private ValueTask<ForwarderError> SendBuffered(ProxyContext context, SpillBuffer? requestBody)
    {
        if (requestBody is null || context.LocalResponse is not null) return ValueTask.FromResult(NothingToReport);
        var target = context.Target!;
        return target.Upstream is { } upstream
            ? SendBalancedAsync(context, target, upstream, requestBody, bodyResendable: true)
            : SendDirectAsync(context, target);
    }

    private async ValueTask<ForwarderError> SendAfterReadAsync(ProxyContext context, ValueTask<SpillBuffer?> read) =>
        await SendBuffered(context, await read);

    /// <summary>Sends a request whose body the handlers hold to its end (<see cref="RequestBuffering.PrimeAsync"/>), with
    /// its length; nothing when the client went away or a body handler answered.</summary>
    private async ValueTask<ForwarderError> SendPrimedAsync(ProxyContext context, Forwarding forwarding)
    {
        var target = context.Target!;
        if (!await RequestBuffering.PrimeAsync(context, forwarding.RequestFilter!) || context.LocalResponse is not null) return NothingToReport;
        return target.Upstream is { } upstream
            ? await SendBalancedAsync(context, target, upstream, null, bodyResendable: !forwarding.CanHaveBody)
            : await SendDirectAsync(context, target);
    }

    /// <summary>After the send, whatever happened: the held response bytes go out, a buffered request body is released
    /// and the client's own response body is back (a local answer written after this, error or failed response handler,
    /// must not pass the wrappers twice). Synchronous unless bytes are held.</summary>
    private ValueTask EndForwardingAsync(ProxyContext context, Forwarding forwarding)
    {
        if (forwarding.Buffered is { Engaged: true })
            return EndForwardingHeldAsync(context, forwarding);
        // a held request body alone is released at once (SpillBuffer.DisposeAsync completes synchronously)
        if (context.HeldRequestBody is { } requestBody && requestBody.DisposeAsync() is { IsCompletedSuccessfully: false } disposing)
            return EndForwardingHeldAsync(context, forwarding, disposing);
        RestoreClientBody(context.HttpContext, forwarding.ClientBody);
        return ValueTask.CompletedTask;
    }

    private async ValueTask EndForwardingHeldAsync(ProxyContext context, Forwarding forwarding)
    {
        try
        {
            if (forwarding.Buffered is { } buffered) await DrainAsync(context, buffered);
            if (context.HeldRequestBody is { } requestBody) await requestBody.DisposeAsync();
        }
        finally { RestoreClientBody(context.HttpContext, forwarding.ClientBody); }
    }

    private static async ValueTask EndForwardingHeldAsync(ProxyContext context, Forwarding forwarding, ValueTask disposing)
    {
        try { await disposing; }
        finally { RestoreClientBody(context.HttpContext, forwarding.ClientBody); }
    }

    private static void RestoreClientBody(HttpContext http, Stream clientBody)
    {
        if (!ReferenceEquals(http.Response.Body, clientBody)) http.Response.Body = clientBody;
    }

    /// <summary>An upstream failure: logged, and answered (502/504…) when the response has not started.</summary>
    private void ReportForwardError(ProxyContext context, ForwarderError error)
    {
        if (error is ForwarderError.None or NothingToReport) return;
        var http = context.HttpContext;
        var target = context.Target!;
        var exception = http.Features.Get<IForwarderErrorFeature>()?.Exception;
        context.Error ??= exception;
        if (UpstreamErrors.IsClientCaused(error))
        {
            ProxyLog.ClientError(_logger, _logLimiter, exception, error.ToString(), http.Request.Method, http.Request.Path);
            return;
        }
        ProxyLog.UpstreamError(_logger, _logLimiter, exception, error.ToString(), http.Request.Method, http.Request.Path,
            context.Peer?.DestinationPrefix(target.Tls) ?? target.DestinationPrefix);
        if (UpstreamErrors.ToResponse(error, exception) is { } answer && !http.Response.HasStarted)
            context.Exit(answer);
    }

    /// <summary>A service on a host and port: one try (one <c>kong.balancer</c> span when traced). Untraced, YARP's
    /// task is returned as it is (no state machine of its own per request).</summary>
    private ValueTask<ForwarderError> SendDirectAsync(ProxyContext context, UpstreamTarget target) =>
        context.Trace is null
            ? _forwarder.SendAsync(context.HttpContext, target.DestinationPrefix, target.Invoker ?? _connector.Invoker, target.RequestConfig, _transformer)
            : SendDirectTracedAsync(context, target);

    private async ValueTask<ForwarderError> SendDirectTracedAsync(ProxyContext context, UpstreamTarget target)
    {
        var span = context.Trace?.BeginTry();
        var error = await _forwarder.SendAsync(context.HttpContext, target.DestinationPrefix, target.Invoker ?? _connector.Invoker, target.RequestConfig, _transformer);
        if (span is not null) RequestSpan.EndTry(span, context, target.DestinationPrefix, 1, error);
        ClientSpans.AfterTry(context.Trace);
        return error;
    }

    /// <summary>
    /// A service whose host names an upstream: each try goes to the peer the balancer picks, and a failed try moves on
    /// to another peer up to service.retries times when <see cref="NextUpstream"/> allows it (nginx's
    /// proxy_next_upstream error timeout); a held body (<paramref name="heldBody"/>) is sent again from its start.
    /// Any other failure ends the request. No peer at all: Kong's 503 (<see cref="ForwarderError.NoAvailableDestinations"/>).
    /// </summary>
    private async ValueTask<ForwarderError> SendBalancedAsync(ProxyContext context, UpstreamTarget target, BalancedUpstream upstream,
        SpillBuffer? heldBody, bool bodyResendable)
    {
        var http = context.HttpContext;
        // the key is computed once per request, as Kong's balancer does on the first try
        var hashKey = upstream.HashKeys.Hashes ? upstream.HashKeys.KeyFor(context) : null;
        context.Debug?.Enter("balancer");
        var peer = upstream.Pick(hashKey, null);
        context.Debug?.Leave();
        if (peer is null)
        {
            context.Exit(StatusCodes.Status503ServiceUnavailable, ProxyMessages.NoPeer);
            return ForwarderError.NoAvailableDestinations;
        }
        List<Balancing.BalancerPeer>? tried = null;
        for (var attempt = 0; ; attempt++)
        {
            context.Peer = peer;
            context.PeerStartedAtMs = _time.GetUtcNow().ToUnixTimeMilliseconds();
            var balancer = upstream.Balancer!;
            balancer.Started(peer.Peer);
            var started = _time.GetTimestamp();
            var span = context.Trace?.BeginTry();
            ForwarderError error = ForwarderError.Request;
            try
            {
                error = await _forwarder.SendAsync(http, peer.DestinationPrefix(target.Tls), target.Invoker ?? _connector.Invoker, target.RequestConfig, _transformer);
            }
            finally
            {
                balancer.Finished(peer.Peer, _time.GetElapsedTime(started));
                if (span is not null) RequestSpan.EndTry(span, context, peer.DestinationPrefix(target.Tls), attempt + 1, error);
            }
            if (upstream.Checker is { } checker) PassiveHealthReport.Report(checker, peer.Peer, error, context);
            if (error == ForwarderError.None || attempt >= target.Service.Retries) return error;
            var exception = http.Features.Get<IForwarderErrorFeature>()?.Exception;
            if (!NextUpstream.Allows(context, error, exception, bodyResendable)) return error;
            (tried ??= []).Add(peer.Peer);
            (context.EarlierTries ??= []).Add(new PeerTry(peer.Peer, context.PeerStartedAtMs,
                UpstreamErrors.ToResponse(error, exception)?.StatusCode ?? StatusCodes.Status502BadGateway));
            // no peer left (the others down or weight 0): this try's failure answers (502; 504 for a timeout)
            context.Debug?.Enter("balancer");
            var next = upstream.Pick(hashKey, tried);
            context.Debug?.Leave();
            if (next is null) return error;
            ProxyLog.RetryingPeer(_logger, _logLimiter, peer.Peer.Endpoint, upstream.Upstream.Name,
                exception?.Message ?? error.ToString(), attempt + 1);
            peer = next;
            // YARP marked the response as a 502/504 and recorded its error: the next try starts clean
            http.Response.StatusCode = StatusCodes.Status200OK;
            http.Features.Set<IForwarderErrorFeature>(null);
            if (heldBody is not null) http.Request.Body = heldBody.OpenCompleted();
        }
    }

    private static bool IsGrpcFramed(HttpRequest request) =>
        request.ContentType is { } type && type.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase);

    /// <summary>Sends what the response buffer still holds; a client that went away meanwhile is its own error.</summary>
    private async Task DrainAsync(ProxyContext context, BufferedResponseStream buffered)
    {
        try { await buffered.DrainAsync(); }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException)
        {
            context.Error ??= e;
            ProxyLog.ClientError(_logger, _logLimiter, e, "ResponseBodyClient", context.HttpContext.Request.Method, context.HttpContext.Request.Path);
        }
    }

    private async Task FailAsync(ProxyContext context, Exception e)
    {
        var http = context.HttpContext;
        context.Error = e;
        if (e is OperationCanceledException && http.RequestAborted.IsCancellationRequested) return;
        if (e is BadHttpRequestException bad)
        {
            // a malformed or truncated request body met by a plugin or filter that reads it: the client's fault
            ProxyLog.ClientError(_logger, _logLimiter, e, nameof(BadHttpRequestException), http.Request.Method, http.Request.Path);
            if (http.Response.HasStarted) { http.Abort(); return; }
            context.Exit(bad.StatusCode, ProxyMessages.ForBadRequest(bad.StatusCode));
            await LocalResponseWriter.WriteAsync(context, _settings, runHandlers: false);
            return;
        }
        ProxyLog.UnexpectedError(_logger, e, http.Request.Method, http.Request.Path);
        if (http.Response.HasStarted)
        {
            http.Abort();
            return;
        }
        context.Exit(StatusCodes.Status500InternalServerError, ProxyMessages.Unexpected);
        try { await LocalResponseWriter.WriteAsync(context, _settings, runHandlers: false); }
        catch (Exception inner) { ProxyLog.ResponseFailedAfterStart(_logger, inner); http.Abort(); }
    }

    private static RouteRequest ToRouteRequest(ProxyContext context, string path)
    {
        var http = context.HttpContext;
        var (host, port) = context.SplitHost();
        var sni = http.Request.IsHttps ? ListenerKinds.Sni(http) : null;
        return new RouteRequest(http.Request.Method, host, port, path, http.Request.Headers, sni, http.Request.IsHttps);
    }

    /// <summary>The request target as received is the source of truth (ASP.NET's Path is already decoded, so
    /// <c>%2F</c> and <c>/</c> could not be told apart); false for a target nginx refuses (400).</summary>
    private static bool TryNormalizePath(HttpContext http, out string path)
    {
        var raw = RawRequestTarget.Get(http);
        path = "";
        if (!UriNormalizer.TrySplitTarget(raw, out var rawPath, out _)) return false;
        // Kestrel's path string is reused when it is already normal (no allocation on the common request)
        var candidate = rawPath.Length == raw.Length ? raw : http.Request.Path.Value;
        if (!UriNormalizer.TryNormalize(rawPath, candidate, out var normalized)) return false;
        path = normalized;
        return true;
    }
}
