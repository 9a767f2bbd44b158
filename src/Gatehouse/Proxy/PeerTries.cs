using Gatehouse.Proxy.Balancing;
using Gatehouse.Proxy.Pipeline;

namespace Gatehouse.Proxy;

/// <summary>One try of a balanced request, as Kong's <c>balancer_data.tries</c> entry: the peer, when the try began
/// (Unix ms, Kong's <c>balancer_start</c>), and for a failed try Kong's <c>state</c> "failed" with its <c>code</c>
/// (502, or 504 for a timeout).</summary>
public readonly record struct PeerTry(BalancerPeer Peer, long StartedAtMs, int? FailedCode);

/// <summary>The peers a request was sent to: what logs (<c>tries</c>, <c>upstream_addr</c>) and filters
/// (<c>upstream.address</c>, <c>ngx.upstream_addr</c>) report. Computed on read from <see cref="ProxyContext.Peer"/> and
/// <see cref="ProxyContext.EarlierTries"/>, so a request with one try records nothing extra.</summary>
public static class PeerTries
{
    /// <summary>Every try in order, the current one last; empty when the request reached no peer.</summary>
    public static IReadOnlyList<PeerTry> Of(ProxyContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Peer is not { } current) return [];
        var tries = new List<PeerTry>((context.EarlierTries?.Count ?? 0) + 1);
        if (context.EarlierTries is { } earlier) tries.AddRange(earlier);
        // Kong marks the last try failed only when it answered 5xx and no retry was left (try_count > retries)
        var status = context.HttpContext.Response.StatusCode;
        var last = status > 499 && tries.Count + 1 > (context.Target?.Service.Retries ?? 0) ? status : (int?)null;
        tries.Add(new PeerTry(current.Peer, context.PeerStartedAtMs, last));
        return tries;
    }

    /// <summary>nginx's <c>$upstream_addr</c>: each try's <c>ip:port</c>, joined with ", "; null without a peer.</summary>
    public static string? UpstreamAddr(ProxyContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Peer is not { } current) return null;
        return context.EarlierTries is { Count: > 0 } earlier
            ? string.Join(", ", earlier.Select(t => t.Peer.Endpoint).Append(current.Peer.Endpoint))
            : current.Peer.Endpoint;
    }
}
