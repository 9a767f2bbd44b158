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

    private Kong(ProxyContext context)
    {
        Context = context;
        Request = new KongRequest(context.HttpContext, context);
        Response = new KongResponse(this);
    }

    /// <summary>The PDK of this request (created on first use).</summary>
    public static Kong For(ProxyContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.PluginState is Kong kong) return kong;
        kong = new Kong(context);
        context.PluginState = kong;
        return kong;
    }

    public ProxyContext Context { get; }
    public KongRequest Request { get; }
    public KongResponse Response { get; }
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

    internal void AddPendingHeader(string name, string? value) => (_pendingHeaders ??= []).Add(new(name, value));

    /// <summary>Applies headers set before the response existed (kong.response.set_header in access).</summary>
    internal void ApplyPendingHeaders()
    {
        if (_pendingHeaders is null) return;
        var headers = Context.HttpContext.Response.Headers;
        foreach (var (name, value) in _pendingHeaders)
            if (value is null) headers.Remove(name); else headers[name] = ProxyWasm.Http.HeaderBytes.FromText(value);
    }
}
