using System.Collections.Frozen;
using System.Net;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Proxy.Balancing.Health;

/// <summary>
/// The health of one upstream's peers (Kong's healthchecks, after lua-resty-healthcheck). Active: healthy peers
/// are probed every <c>active.healthy.interval</c>, unhealthy ones every <c>active.unhealthy.interval</c>, at most
/// <c>active.concurrency</c> probes at once; a round still running when the next is due is skipped, so a
/// black-holed peer costs one <c>timeout</c> per interval. Passive: the proxy reports each try's outcome. Either
/// way, thresholds of reports in a row flip a peer; the Admin API can set it. Every flip is logged (one line) and
/// raised as <see cref="HealthChanged"/>. <see cref="IsHealthy"/> is one dictionary read and one volatile read.
/// Peers are keyed by address, port and target, so a new peer list (DNS refresh, weight change) keeps the
/// health of the addresses it still has; new addresses start healthy, as in Kong.
/// </summary>
public sealed class HealthChecker : IPeerHealth, IDisposable
{
    private readonly string _upstream;
    private readonly HealthCheckSettings _settings;
    private readonly StatusSet _activeHealthy, _activeUnhealthy, _passiveHealthy, _passiveUnhealthy;
    private readonly ActiveProbe _probe;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _peersLock = new();
    private readonly ITimer? _healthyTimer, _unhealthyTimer;
    private volatile FrozenDictionary<PeerKey, PeerHealthState> _peers;
    private readonly int[] _roundRunning = new int[2]; // [0]: healthy side, [1]: unhealthy side
    private int _roundsStarted;
    private long _probesRecorded;

    /// <param name="upstream">the upstream's name, for logs and <see cref="PeerHealthChange"/></param>
    /// <param name="hostHeader">the upstream's <c>host_header</c>: the probes' Host (else the target's host name)</param>
    public HealthChecker(string upstream, HealthCheckSettings settings, IEnumerable<BalancerPeer> peers,
        ILogger<HealthChecker> log, TimeProvider? time = null, string? hostHeader = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(settings.Active.Concurrency, 1, "healthchecks.active.concurrency");
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(settings.Active.Timeout, TimeSpan.Zero, "healthchecks.active.timeout");
        _upstream = upstream;
        _settings = settings;
        _log = log;
        _time = time ?? TimeProvider.System;
        _activeHealthy = new StatusSet(settings.Active.Healthy.HttpStatuses);
        _activeUnhealthy = new StatusSet(settings.Active.Unhealthy.HttpStatuses);
        _passiveHealthy = new StatusSet(settings.Passive.Healthy.HttpStatuses);
        _passiveUnhealthy = new StatusSet(settings.Passive.Unhealthy.HttpStatuses);
        _probe = new ActiveProbe(settings.Active, hostHeader, _time);
        _peers = peers.DistinctBy(PeerKey.Of).ToFrozenDictionary(PeerKey.Of, p => new PeerHealthState(p));
        if (settings.Active.Healthy.Interval > TimeSpan.Zero)
            _healthyTimer = StartTimer(probeHealthy: true, settings.Active.Healthy.Interval);
        if (settings.Active.Unhealthy.Interval > TimeSpan.Zero)
            _unhealthyTimer = StartTimer(probeHealthy: false, settings.Active.Unhealthy.Interval);
    }

    /// <summary>Raised on every flip of a peer's health (from a probe, a report or the Admin API).</summary>
    public event Action<PeerHealthChange>? HealthChanged;

    /// <summary>Every peer with its health now (Admin API health endpoints, metrics).</summary>
    public IReadOnlyList<(BalancerPeer Peer, bool Healthy)> Snapshot() =>
        _peers.Values.Select(s => (s.Peer, s.IsHealthy)).ToArray();

    /// <summary>Probe rounds started (a side with no peer to probe, or still running, starts none).</summary>
    internal int RoundsStarted => Volatile.Read(ref _roundsStarted);

    /// <summary>Probes whose outcome has been counted.</summary>
    internal long ProbesRecorded => Interlocked.Read(ref _probesRecorded);

    /// <summary>Unknown peers are healthy: the checker has not been told of them yet.</summary>
    public bool IsHealthy(BalancerPeer peer) =>
        !_peers.TryGetValue(PeerKey.Of(peer), out var state) || state.IsHealthy;

    /// <summary>Replaces the peer list (new snapshot or DNS answer), keeping the health of the peers that remain.</summary>
    public void UpdatePeers(IEnumerable<BalancerPeer> peers)
    {
        lock (_peersLock)
        {
            var current = _peers;
            var next = new Dictionary<PeerKey, PeerHealthState>();
            foreach (var peer in peers)
            {
                var key = PeerKey.Of(peer);
                if (next.ContainsKey(key)) continue;
                if (current.TryGetValue(key, out var state)) state.Peer = peer;
                else state = new PeerHealthState(peer);
                next[key] = state;
            }
            _peers = next.ToFrozenDictionary();
        }
    }

    /// <summary>A proxied try got a response with <paramref name="status"/> (passive): counted as a success or an
    /// HTTP failure when the status is in the passive lists, ignored otherwise.</summary>
    public void ReportHttpStatus(BalancerPeer peer, int status) =>
        CountStatus(peer, status, _passiveHealthy, _passiveUnhealthy,
            _settings.Passive.Healthy.Successes, _settings.Passive.Unhealthy.HttpFailures, "passive");

    /// <summary>A proxied try succeeded without an HTTP status to judge (passive success).</summary>
    public void ReportSuccess(BalancerPeer peer) =>
        Count(peer, HealthReport.Success, _settings.Passive.Healthy.Successes, "passive");

    /// <summary>A proxied try could not connect, or the connection failed (passive).</summary>
    public void ReportTcpFailure(BalancerPeer peer) =>
        Count(peer, HealthReport.TcpFailure, _settings.Passive.Unhealthy.TcpFailures, "passive");

    /// <summary>A proxied try timed out (passive).</summary>
    public void ReportTimeout(BalancerPeer peer) =>
        Count(peer, HealthReport.Timeout, _settings.Passive.Unhealthy.Timeouts, "passive");

    /// <summary>Sets a peer healthy or unhealthy (Admin API <c>.../healthy</c>, <c>.../unhealthy</c>); the counters
    /// start again. False when the checker does not know the peer.</summary>
    public bool SetHealthy(BalancerPeer peer, bool healthy)
    {
        if (!_peers.TryGetValue(PeerKey.Of(peer), out var state)) return false;
        if (state.Set(healthy)) Changed(state.Peer, healthy, "manual");
        return true;
    }

    /// <summary>Sets every address of a target (Admin API on a target rather than one of its addresses). False when
    /// the checker knows no address of it.</summary>
    public bool SetTargetHealthy(string targetId, bool healthy)
    {
        var found = false;
        foreach (var state in _peers.Values)
        {
            if (state.Peer.TargetId != targetId) continue;
            found = true;
            if (state.Set(healthy)) Changed(state.Peer, healthy, "manual");
        }
        return found;
    }

    public void Dispose()
    {
        if (_stop.IsCancellationRequested) return;
        _stop.Cancel();
        _healthyTimer?.Dispose();
        _unhealthyTimer?.Dispose();
    }

    private ITimer StartTimer(bool probeHealthy, TimeSpan interval)
    {
        // one-shot, re-armed on each tick: the next tick is due one interval after this one, whatever the round costs
        ITimer? timer = null;
        timer = _time.CreateTimer(_ =>
        {
            if (_stop.IsCancellationRequested) return;
            try
            {
                timer!.Change(interval, Timeout.InfiniteTimeSpan);
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            _ = RunRoundAsync(probeHealthy);
        }, null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        timer.Change(interval, Timeout.InfiniteTimeSpan);
        return timer;
    }

    /// <summary>Probes the peers on one side (healthy or unhealthy), unless the previous round of that side is still
    /// running (then this tick is skipped: a hanging peer is not probed twice at once).</summary>
    private async Task RunRoundAsync(bool probeHealthy)
    {
        var side = probeHealthy ? 0 : 1;
        if (Interlocked.Exchange(ref _roundRunning[side], 1) == 1) return;
        try
        {
            var due = _peers.Values.Where(s => s.IsHealthy == probeHealthy).ToArray();
            if (due.Length == 0) return;
            Interlocked.Increment(ref _roundsStarted);
            var options = new ParallelOptions
            {
                MaxDegreeOfParallelism = _settings.Active.Concurrency, CancellationToken = _stop.Token,
            };
            await Parallel.ForEachAsync(due, options, async (state, ct) =>
            {
                var outcome = await _probe.RunAsync(state.Peer, ct).ConfigureAwait(false);
                Record(state.Peer, outcome);
            }).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // disposed mid-round
        }
        catch (Exception e)
        {
            _log.LogError(e, "Health check round of upstream {Upstream} failed", _upstream);
        }
        finally
        {
            Volatile.Write(ref _roundRunning[side], 0);
        }
    }

    private void Record(BalancerPeer peer, ProbeOutcome outcome)
    {
        if (_stop.IsCancellationRequested) return;
        Interlocked.Increment(ref _probesRecorded);
        var unhealthy = _settings.Active.Unhealthy;
        switch (outcome)
        {
            case { Status: { } status }:
                CountStatus(peer, status, _activeHealthy, _activeUnhealthy,
                    _settings.Active.Healthy.Successes, unhealthy.HttpFailures, "active");
                break;
            case { Failure: HealthReport.Success }:
                Count(peer, HealthReport.Success, _settings.Active.Healthy.Successes, "active");
                break;
            case { Failure: HealthReport.TcpFailure }:
                Count(peer, HealthReport.TcpFailure, unhealthy.TcpFailures, "active");
                break;
            case { Failure: HealthReport.Timeout }:
                Count(peer, HealthReport.Timeout, unhealthy.Timeouts, "active");
                break;
        }
    }

    private void CountStatus(BalancerPeer peer, int status, StatusSet healthy, StatusSet unhealthy,
        int successes, int httpFailures, string source)
    {
        // status 0 (no status line) is an HTTP failure, as in lua-resty-healthcheck
        if (healthy.Contains(status)) Count(peer, HealthReport.Success, successes, source);
        else if (status == 0 || unhealthy.Contains(status)) Count(peer, HealthReport.HttpFailure, httpFailures, source);
    }

    private void Count(BalancerPeer peer, HealthReport report, int limit, string source)
    {
        if (limit <= 0 || !_peers.TryGetValue(PeerKey.Of(peer), out var state)) return;
        if (state.Count(report, limit) is { } healthy)
            Changed(state.Peer, healthy, $"{source}: {limit} {Describe(report)} in a row");
    }

    private static string Describe(HealthReport report) => report switch
    {
        HealthReport.Success => "successes",
        HealthReport.HttpFailure => "http failures",
        HealthReport.TcpFailure => "tcp failures",
        _ => "timeouts",
    };

    private void Changed(BalancerPeer peer, bool healthy, string reason)
    {
        _log.Log(healthy ? LogLevel.Information : LogLevel.Warning,
            "Upstream {Upstream} target {Target} address {Address} is now {Health} ({Reason})",
            _upstream, peer.Target, peer.Endpoint, healthy ? "HEALTHY" : "UNHEALTHY", reason);
        try
        {
            HealthChanged?.Invoke(new PeerHealthChange(_upstream, peer, healthy, reason));
        }
        catch (Exception e)
        {
            _log.LogError(e, "A health change handler of upstream {Upstream} failed", _upstream);
        }
    }

    /// <summary>A peer's identity for health: its address, port and target (not its weight).</summary>
    private readonly record struct PeerKey(IPAddress Address, int Port, string Target)
    {
        public static PeerKey Of(BalancerPeer peer) => new(peer.Address, peer.Port, peer.Target);
    }

    /// <summary>A set of HTTP statuses (100-999) as a bit table: one index per lookup.</summary>
    private sealed class StatusSet(IEnumerable<int> statuses)
    {
        private readonly bool[] _table = statuses.Where(s => s is >= 0 and < 1000)
            .Aggregate(new bool[1000], (t, s) => { t[s] = true; return t; });

        public bool Contains(int status) => (uint)status < 1000 && _table[status];
    }
}
