using System.Globalization;
using System.Text.RegularExpressions;
using Gatehouse.Proxy;
using Gatehouse.Proxy.Pipeline;

namespace Gatehouse.Wasm;

/// <summary>The <c>kong.service.*</c> setters (§7.2): a filter redirects this request to another host and port
/// (<c>kong.service.target</c>, <c>"host:port"</c>), scheme (<c>kong.service.request.scheme</c>) or upstream
/// (<c>kong.service.upstream</c>, an upstream's name). The request's
/// <see cref="UpstreamTarget"/> is replaced by one built from the service with the override applied; the snapshot's
/// shared targets are untouched. Only on a routed request with a service, before the upstream is contacted.</summary>
internal static partial class UpstreamOverrides
{
    public static bool TrySetTarget(ProxyContext context, string value)
    {
        var match = TargetPattern().Match(value);
        if (!match.Success || !int.TryParse(match.Groups[2].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            || port is < 1 or > 65535 || match.Groups[1].Length == 0)
            return false;
        var host = match.Groups[1].Value.Trim('[', ']');
        // as Kong's balancer: a host that names an upstream balances over it
        return Replace(context, s => s with { Host = host, Port = port }, context.Upstreams?.GetValueOrDefault(host));
    }

    // the scheme changes, the upstream the service balances over (if any) stays
    public static bool TrySetScheme(ProxyContext context, string value) =>
        value is "http" or "https" && Replace(context, s => s with { Protocol = value }, context.Target?.Upstream);

    /// <summary>Kong's <c>kong.service.set_upstream(name)</c>: the request balances over the upstream named so (its
    /// targets, algorithm and host header), with the service's other settings; refused when no upstream has that name.</summary>
    public static bool TrySetUpstream(ProxyContext context, string name) =>
        context.Upstreams?.GetValueOrDefault(name) is { } upstream && Replace(context, s => s with { Host = name }, upstream);

    private static bool Replace(ProxyContext context, Func<Model.ServiceModel, Model.ServiceModel> change, BalancedUpstream? upstream = null)
    {
        if (context.HttpContext.Response.HasStarted || context.UpstreamStatus is not null) return false;
        var service = context.Target?.Service ?? context.Service;
        if (service is null) return false;
        context.Target = new UpstreamTarget(change(service), upstream);
        return true;
    }

    [GeneratedRegex(@"^(.*):([0-9]+)$")]
    private static partial Regex TargetPattern();
}
