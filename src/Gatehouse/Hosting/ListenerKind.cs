using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Hosting;

/// <summary>Which plane a Kestrel listener serves. Stamped on each connection by the listener's connection
/// middleware, read once per request to branch before any routing middleware.</summary>
public enum ListenerKind { Proxy, Admin, Status }

internal static class ListenerKinds
{
    internal const string ItemKey = "gatehouse.listener";

    public static ListenerKind Of(HttpContext http) =>
        http.Features.Get<IConnectionItemsFeature>()?.Items.TryGetValue(ItemKey, out var v) == true && v is ListenerKind k
            ? k
            : ListenerKind.Admin;
}
