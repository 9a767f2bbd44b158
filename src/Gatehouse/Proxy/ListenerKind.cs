using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Proxy;

/// <summary>Which plane a Kestrel listener serves. Stamped on each connection (its <see cref="ConnectionActivity"/>) by
/// the listener's connection middleware, read once per request to branch before any routing middleware.</summary>
public enum ListenerKind { Proxy, Admin, Status, Manager }

public static class ListenerKinds
{
    internal const string ItemKey = "gatehouse.listener";
    internal const string SniItemKey = "gatehouse.sni";

    /// <summary>The TLS server name the client sent on this connection, if any.</summary>
    public static string? Sni(HttpContext http) =>
        http.Features.Get<IConnectionItemsFeature>()?.Items.TryGetValue(SniItemKey, out var v) == true ? v as string : null;

    /// <summary>The plane of the connection this request came in on.</summary>
    public static ListenerKind Of(HttpContext http) => ConnectionActivity.Of(http)?.Kind ?? ListenerKind.Admin;
}
