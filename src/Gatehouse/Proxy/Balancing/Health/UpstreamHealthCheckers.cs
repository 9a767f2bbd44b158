using Gatehouse.Model;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatehouse.Proxy.Balancing.Health;

/// <summary>
/// The health checkers of every upstream that enables health checks, owned across configuration snapshots: a new
/// snapshot with the same upstream (same id, name, <c>healthchecks</c> and <c>host_header</c>) keeps its checker and
/// the health it has learnt, with the new peers; a changed upstream gets a new checker; a removed one's is disposed.
/// Called on the snapshot provider's publishing thread only (never on a request).
/// </summary>
public sealed class UpstreamHealthCheckers : IDisposable
{
    private readonly ILoggerFactory _loggers;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly Dictionary<Guid, Owned> _checkers = [];

    public UpstreamHealthCheckers(ILoggerFactory? loggers = null, TimeProvider? time = null)
    {
        _loggers = loggers ?? NullLoggerFactory.Instance;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>The checker for <paramref name="upstream"/> with <paramref name="peers"/>, or null when its health
    /// checks are off (Kong creates no checker then: every peer is HEALTHCHECKS_OFF).</summary>
    public HealthChecker? For(UpstreamModel upstream, IReadOnlyList<BalancerPeer> peers)
    {
        ArgumentNullException.ThrowIfNull(upstream);
        lock (_lock)
        {
            var key = new Owned.Key(upstream.Name, upstream.HealthchecksJson, upstream.HostHeader);
            if (_checkers.TryGetValue(upstream.Id, out var owned))
            {
                if (owned.Identity == key)
                {
                    owned.Checker?.UpdatePeers(peers);
                    return owned.Checker;
                }
                owned.Checker?.Dispose();
                _checkers.Remove(upstream.Id);
            }
            HealthCheckSettings? settings = null;
            try { settings = HealthCheckSettingsJson.Parse(upstream.HealthchecksJson); }
            catch (NotSupportedException e)
            {
                // the schema refuses such checks when they are on; with them off (the type set, nothing probing)
                // there is simply no checker
                _loggers.CreateLogger<UpstreamHealthCheckers>().LogDebug("upstream {Upstream}: {Reason} has no health checker", upstream.Name, e.Message);
            }
            var checker = settings is { Enabled: true }
                ? new HealthChecker(upstream.Name, settings, peers, _loggers.CreateLogger<HealthChecker>(), _time, upstream.HostHeader)
                : null;
            _checkers[upstream.Id] = new Owned(key, checker);
            return checker;
        }
    }

    /// <summary>Disposes the checkers of upstreams that are not in <paramref name="upstreams"/> any more.</summary>
    public void Retain(IEnumerable<UpstreamModel> upstreams)
    {
        var keep = upstreams.Select(u => u.Id).ToHashSet();
        lock (_lock)
        {
            foreach (var id in _checkers.Keys.Where(id => !keep.Contains(id)).ToArray())
            {
                _checkers[id].Checker?.Dispose();
                _checkers.Remove(id);
            }
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            foreach (var owned in _checkers.Values) owned.Checker?.Dispose();
            _checkers.Clear();
        }
    }

    private sealed record Owned(Owned.Key Identity, HealthChecker? Checker)
    {
        internal readonly record struct Key(string Name, string HealthchecksJson, string? HostHeader);
    }
}
