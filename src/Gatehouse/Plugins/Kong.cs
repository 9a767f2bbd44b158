using Gatehouse.Model;
using Gatehouse.Proxy.Pipeline;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Plugins;

/// <summary>
/// The per-request plugin API, in the spirit of Kong's PDK (<c>kong.request</c>, <c>kong.response</c>,
/// <c>kong.client</c>, <c>kong.router</c>, <c>kong.client.authenticate</c>, <c>kong.ctx.shared</c>, <c>kong.log</c>),
/// so each bundled plugin stays short. One instance per request, kept in the request's <c>ProxyContext.PluginState</c>.
/// </summary>
public sealed class Kong
{
    private List<KeyValuePair<string, string?>>? _pendingHeaders;

    private KongRequest? _request;
    private KongResponse? _response;

    private Kong(ProxyContext context) => Context = context;

    /// <summary>The PDK of this request (created on first use).</summary>
    public static Kong For(ProxyContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.PluginState is Kong kong) return kong;
        kong = new Kong(context);
        context.PluginState = kong;
        // nothing deferred yet: the header phase passes over DeferredHeadersStep until a plugin defers a header
        context.SkippedSteps |= NoPendingHeaders;
        return kong;
    }

    /// <summary>The <see cref="ProxyContext.SkippedSteps"/> bit of <see cref="DeferredHeadersStep"/>: no response header
    /// is waiting for the response. Plugin slots take the bits below it (<see cref="PluginSlot.SkipBit"/>).</summary>
    internal const ulong NoPendingHeaders = 1UL << 63;

    /// <summary>The skip bit of the plugin access step running now (set by the step before it calls the plugin); 0 in
    /// every other phase, where <see cref="SkipLaterPhases"/> does nothing.</summary>
    internal ulong RunningAccessStep { get; set; }

    /// <summary>The running plugin has nothing left to do for this request: its header_filter and log steps are not run
    /// (the phase loops pass over them, <see cref="ProxyContext.SkippedSteps"/>). Honoured in the access phase only
    /// (the phases after it run on the same route plan); its body_filter step still runs, since whether the response has
    /// body steps was settled with the plan. A request with request debugging runs every step, as Kong reports them.</summary>
    public void SkipLaterPhases()
    {
        if (Context.Debug is null) Context.SkippedSteps |= RunningAccessStep;
    }

    public ProxyContext Context { get; }
    // made on first use: most plugin steps of a request touch one of them or neither (e.g. an unsampled request's
    // opentelemetry step only the request's headers)
    public KongRequest Request => _request ??= new KongRequest(Context.HttpContext, Context);
    public KongResponse Response => _response ??= new KongResponse(this);
    /// <summary><c>kong.ctx.shared</c>: data plugins share within this request.</summary>
    public IDictionary<string, object?> Ctx => Context.Shared;
    /// <summary>The request's protocol as plugins' <c>protocols</c> name it: http, https, grpc or grpcs.</summary>
    public string Protocol
    {
        get
        {
            var request = Context.HttpContext.Request;
            var grpc = request.ContentType?.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) == true;
            return (grpc, request.IsHttps) switch { (true, true) => "grpcs", (true, false) => "grpc", (false, true) => "https", _ => "http" };
        }
    }
    public RouteModel? Route => Context.Route;
    public ServiceModel? Service => Context.Service;
    /// <summary><c>kong.client.get_forwarded_ip</c> (no trusted IPs: the peer address).</summary>
    public string ClientIp => Context.HttpContext.Connection.RemoteIpAddress?.ToString() ?? "";
    public ConsumerModel? Consumer { get; private set; }
    public string? CredentialIdentifier { get; private set; }
    /// <summary>Set on the log phase's logger for plugins; null-safe.</summary>
    public ILogger Log { get; internal set; } = Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

    /// <summary><c>kong.client.authenticate</c>: later plugins (acl, consumer-scoped instances) see this consumer.</summary>
    public void Authenticate(ConsumerModel? consumer, string? credentialIdentifier)
    {
        Consumer = consumer;
        CredentialIdentifier = credentialIdentifier;
        Context.AuthenticatedConsumerId = consumer?.Id;
    }

    /// <summary>Sets Kong's consumer headers upstream (X-Consumer-*, X-Credential-Identifier, X-Anonymous-Consumer).</summary>
    public void SetConsumerHeaders(ConsumerModel consumer, string? credentialIdentifier, bool anonymous)
    {
        Request.SetHeader("X-Consumer-ID", consumer.Id.ToString());
        Request.SetHeader("X-Consumer-Custom-ID", consumer.CustomId);
        Request.SetHeader("X-Consumer-Username", consumer.Username);
        Request.SetHeader("X-Credential-Identifier", credentialIdentifier);
        Request.SetHeader("X-Anonymous-Consumer", anonymous ? "true" : null);
    }

    internal void AddPendingHeader(string name, string? value)
    {
        (_pendingHeaders ??= []).Add(new(name, value));
        Context.SkippedSteps &= ~NoPendingHeaders;
    }

    /// <summary>Applies headers set before the response existed (kong.response.set_header in access).</summary>
    internal void ApplyPendingHeaders()
    {
        if (_pendingHeaders is null) return;
        var headers = Context.HttpContext.Response.Headers;
        foreach (var (name, value) in _pendingHeaders)
            if (value is null) headers.Remove(name); else headers[name] = ProxyWasm.Http.HeaderBytes.FromText(value);
    }
}
