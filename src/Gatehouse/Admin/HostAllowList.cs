using Gatehouse.Config;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Admin;

/// <summary>
/// The Host names a non-proxy listener answers to: localhost, its listen addresses' names, admin_gui_url's hosts and
/// admin_allowed_hosts. Any IP address in canonical form is accepted too: DNS rebinding needs a name the attacker's
/// DNS answers for, and a browser that sends an IP literal is talking to the origin it shows. A request without Host
/// (HTTP/1.0) is not a browser's and passes.
/// </summary>
public sealed class HostAllowList
{
    private readonly HashSet<string> _names = new(StringComparer.Ordinal) { "localhost" };
    private readonly bool _any;

    public HostAllowList(IEnumerable<ListenAddress> listen, GatehouseOptions options)
    {
        ArgumentNullException.ThrowIfNull(listen);
        ArgumentNullException.ThrowIfNull(options);
        _any = options.AdminAllowedHosts.Contains("*");
        foreach (var address in listen)
            if (address.Host is not ("*" or "0.0.0.0" or "::") && !AdminAccess.IsCanonicalIp(address.Host))
                _names.Add(AdminAccess.NormalizeHost(address.Host));
        foreach (var url in options.AdminGuiUrl) _names.Add(AdminAccess.NormalizeHost(url.IdnHost));
        foreach (var host in options.AdminAllowedHosts) _names.Add(host);
    }

    public bool IsAllowed(HostString host)
    {
        if (_any || !host.HasValue) return true;
        var name = host.Host; // without the port; IPv6 keeps its brackets
        if (name.StartsWith('[')) return AdminAccess.IsCanonicalIp(name.Trim('[', ']'));
        return AdminAccess.IsCanonicalIp(name) || _names.Contains(AdminAccess.NormalizeHost(name));
    }
}
