namespace Gatehouse.Proxy.Balancing.Health;

/// <summary>What an active probe does: open a TCP connection (<see cref="Tcp"/>), or also send a GET and read the
/// status line, in clear (<see cref="Http"/>) or over TLS (<see cref="Https"/>). Kong's <c>grpc</c>/<c>grpcs</c>
/// types have no counterpart here.</summary>
public enum HealthCheckType { Tcp, Http, Https }

/// <summary>An upstream's <c>healthchecks</c> (Kong 3.9's schema, minus <c>threshold</c>, which is the balancer's:
/// the share of weight that must be healthy for the upstream to be healthy).</summary>
public sealed record HealthCheckSettings(ActiveHealthCheck Active, PassiveHealthCheck Passive)
{
    /// <summary>Kong's defaults: every counter 0 and both intervals 0, so nothing is probed or counted.</summary>
    public static HealthCheckSettings Default { get; } = new(ActiveHealthCheck.Default, PassiveHealthCheck.Default);

    /// <summary>Kong's <c>is_upstream_using_healthcheck</c>: an active interval or a passive unhealthy threshold above
    /// 0 (passive successes alone could never matter: nothing would take a peer out). Kong creates no checker
    /// otherwise, and neither does Gatehouse.</summary>
    public bool Enabled => Active.Healthy.Interval > TimeSpan.Zero || Active.Unhealthy.Interval > TimeSpan.Zero
        || Passive.Unhealthy.HttpFailures > 0
        || Passive.Unhealthy.TcpFailures > 0 || Passive.Unhealthy.Timeouts > 0;
}

/// <summary><c>healthchecks.active</c>.</summary>
/// <param name="Timeout"><c>timeout</c> (seconds in Kong): one probe's budget, connect to status line.</param>
/// <param name="Concurrency"><c>concurrency</c>: probes running at once.</param>
/// <param name="HttpPath"><c>http_path</c>: the path probed with GET.</param>
/// <param name="HttpsSni"><c>https_sni</c>: the TLS server name (else the Host header's name).</param>
/// <param name="HttpsVerifyCertificate"><c>https_verify_certificate</c>.</param>
/// <param name="Headers"><c>headers</c>: name to values, each value sent as its own header line.</param>
public sealed record ActiveHealthCheck(
    HealthCheckType Type,
    TimeSpan Timeout,
    int Concurrency,
    string HttpPath,
    string? HttpsSni,
    bool HttpsVerifyCertificate,
    IReadOnlyDictionary<string, IReadOnlyList<string>> Headers,
    ActiveHealthy Healthy,
    ActiveUnhealthy Unhealthy)
{
    public static ActiveHealthCheck Default { get; } = new(
        HealthCheckType.Http, TimeSpan.FromSeconds(1), 10, "/", null, true,
        new Dictionary<string, IReadOnlyList<string>>(),
        new ActiveHealthy(TimeSpan.Zero, [200, 302], 0),
        new ActiveUnhealthy(TimeSpan.Zero, [429, 404, 500, 501, 502, 503, 504, 505], 0, 0, 0));
}

/// <summary><c>healthchecks.active.healthy</c>: healthy peers are probed every <paramref name="Interval"/> (0: not
/// probed); <paramref name="Successes"/> probes answering one of <paramref name="HttpStatuses"/> in a row make an
/// unhealthy peer healthy (0: never).</summary>
public sealed record ActiveHealthy(TimeSpan Interval, IReadOnlyList<int> HttpStatuses, int Successes);

/// <summary><c>healthchecks.active.unhealthy</c>: unhealthy peers are probed every <paramref name="Interval"/>;
/// that many HTTP failures (a status in <paramref name="HttpStatuses"/>), TCP failures or timeouts make a healthy
/// peer unhealthy (0: that kind never does).</summary>
public sealed record ActiveUnhealthy(TimeSpan Interval, IReadOnlyList<int> HttpStatuses, int TcpFailures, int Timeouts, int HttpFailures);

/// <summary><c>healthchecks.passive</c>: counts the outcomes of real proxied tries. Kong's <c>passive.type</c>
/// only matters to its stream (TCP) proxy and has no counterpart here.</summary>
public sealed record PassiveHealthCheck(PassiveHealthy Healthy, PassiveUnhealthy Unhealthy)
{
    public static PassiveHealthCheck Default { get; } = new(
        new PassiveHealthy([200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 306, 307, 308], 0),
        new PassiveUnhealthy([429, 500, 503], 0, 0, 0));
}

/// <summary><c>healthchecks.passive.healthy</c>.</summary>
public sealed record PassiveHealthy(IReadOnlyList<int> HttpStatuses, int Successes);

/// <summary><c>healthchecks.passive.unhealthy</c>.</summary>
public sealed record PassiveUnhealthy(IReadOnlyList<int> HttpStatuses, int TcpFailures, int Timeouts, int HttpFailures);

/// <summary>A peer became healthy or unhealthy (for metrics and the logs).</summary>
/// <param name="Reason">what caused it, e.g. <c>active: 3 timeouts</c>, <c>passive: 2 http failures</c>, <c>manual</c></param>
public sealed record PeerHealthChange(string Upstream, BalancerPeer Peer, bool Healthy, string Reason);
