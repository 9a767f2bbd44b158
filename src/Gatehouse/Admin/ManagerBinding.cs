using Gatehouse.Config;

namespace Gatehouse.Admin;

/// <summary>
/// Where the Gatehouse Manager (admin_gui_listen) and the Admin API it calls are bound, known once the listeners are
/// (a port of 0 in the conf is chosen by the system). The Admin guard lets the Manager's own origin call the Admin API
/// cross-site (CORS) through <see cref="AllowsOrigin"/>; the Manager's <c>/kconfig.js</c> names the Admin API's port.
/// </summary>
public sealed class ManagerBinding
{
    private readonly HostAllowList _managerHosts;
    private volatile Bound _bound = new([], []);

    /// <summary>The Manager's bound (scheme, port) pairs and the Admin API's bound addresses.</summary>
    private sealed record Bound((string Scheme, int Port)[] Manager, Uri[] Admin);

    public ManagerBinding(GatehouseOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _managerHosts = new HostAllowList(options.AdminGuiListen, options);
        Enabled = options.AdminGuiListen.Count > 0;
    }

    /// <summary>admin_gui_listen is not off.</summary>
    public bool Enabled { get; }

    /// <summary>The Admin API address the Manager's pages call by default (its port, on the page's own host): an
    /// Admin listener of the page's own scheme first, so that an https page does not call a cleartext API (the
    /// browser would block that mixed content), else the first.</summary>
    public Uri? AdminApiFor(string pageScheme) =>
        _bound.Admin.FirstOrDefault(a => a.Scheme == pageScheme) ?? _bound.Admin.FirstOrDefault();

    /// <summary>Records the bound addresses (called once the listeners are started).</summary>
    public void Bind(IReadOnlyList<Uri> manager, IReadOnlyList<Uri> admin)
    {
        ArgumentNullException.ThrowIfNull(manager);
        ArgumentNullException.ThrowIfNull(admin);
        _bound = new Bound(manager.Select(m => (m.Scheme, m.Port)).Distinct().ToArray(), [.. admin]);
    }

    /// <summary>The Host names the Manager listener answers to (as the Admin API's: localhost, its listen names, IPs,
    /// admin_allowed_hosts), else 421.</summary>
    public bool AllowsHost(Microsoft.AspNetCore.Http.HostString host) => _managerHosts.IsAllowed(host);

    /// <summary>True for a normalised origin that is a page of this Manager: the scheme and port of one of its bound
    /// listeners (https for an <c>ssl</c> one), and a host the Manager listener answers to.</summary>
    public bool AllowsOrigin(string normalizedOrigin)
    {
        if (!Enabled || !Uri.TryCreate(normalizedOrigin, UriKind.Absolute, out var uri)) return false;
        return Array.IndexOf(_bound.Manager, (uri.Scheme, uri.Port)) >= 0
            && _managerHosts.IsAllowed(new Microsoft.AspNetCore.Http.HostString(uri.Authority));
    }
}
