namespace Gatehouse.Config;

/// <summary>Informational headers the gateway may add (Kong's <c>headers</c> setting), resolved once from tokens.</summary>
[Flags]
public enum ProxyHeaders
{
    None = 0,
    Server = 1,
    Via = 2,
    ProxyLatency = 4,
    UpstreamLatency = 8,
    ResponseLatency = 16,
    UpstreamStatus = 32,
    RequestId = 64,
    AdminLatency = 128,
    ServerTokens = Server | Via,
    LatencyTokens = ProxyLatency | UpstreamLatency | ResponseLatency | AdminLatency,
}

/// <summary>Maps Kong's header tokens (and our X-Gatehouse-* spellings) to <see cref="ProxyHeaders"/>.</summary>
public static class ProxyHeaderTokens
{
    public const string ProxyLatencyHeader = "X-Gatehouse-Proxy-Latency";
    public const string UpstreamLatencyHeader = "X-Gatehouse-Upstream-Latency";
    public const string ResponseLatencyHeader = "X-Gatehouse-Response-Latency";
    public const string AdminLatencyHeader = "X-Gatehouse-Admin-Latency";
    public const string UpstreamStatusHeader = "X-Gatehouse-Upstream-Status";
    public const string RequestIdHeader = "X-Gatehouse-Request-Id";

    private static readonly Dictionary<string, ProxyHeaders> Tokens = new(StringComparer.OrdinalIgnoreCase)
    {
        ["off"] = ProxyHeaders.None,
        ["server_tokens"] = ProxyHeaders.ServerTokens,
        ["latency_tokens"] = ProxyHeaders.LatencyTokens,
        ["server"] = ProxyHeaders.Server,
        ["via"] = ProxyHeaders.Via,
        ["x-kong-proxy-latency"] = ProxyHeaders.ProxyLatency,
        ["x-kong-upstream-latency"] = ProxyHeaders.UpstreamLatency,
        ["x-kong-response-latency"] = ProxyHeaders.ResponseLatency,
        ["x-kong-admin-latency"] = ProxyHeaders.AdminLatency,
        ["x-kong-upstream-status"] = ProxyHeaders.UpstreamStatus,
        ["x-kong-request-id"] = ProxyHeaders.RequestId,
        [ProxyLatencyHeader] = ProxyHeaders.ProxyLatency,
        [UpstreamLatencyHeader] = ProxyHeaders.UpstreamLatency,
        [ResponseLatencyHeader] = ProxyHeaders.ResponseLatency,
        [AdminLatencyHeader] = ProxyHeaders.AdminLatency,
        [UpstreamStatusHeader] = ProxyHeaders.UpstreamStatus,
        [RequestIdHeader] = ProxyHeaders.RequestId,
    };

    /// <summary>True when <paramref name="token"/> is a known token; the flags it stands for are returned.</summary>
    public static bool TryParse(string token, out ProxyHeaders flags) => Tokens.TryGetValue(token.Trim(), out flags);

    /// <summary>Combines a set of tokens (as stored in <see cref="GatehouseOptions.Headers"/>); unknown tokens are ignored
    /// because the loader already rejected them.</summary>
    public static ProxyHeaders ToFlags(IEnumerable<string> tokens)
    {
        var flags = ProxyHeaders.None;
        foreach (var t in tokens)
            if (TryParse(t, out var f)) flags |= f;
        return flags;
    }
}
