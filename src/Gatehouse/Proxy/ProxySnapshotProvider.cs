using System.Collections.Frozen;
using Gatehouse.Model;
using Gatehouse.Proxy.Balancing.Health;
using Gatehouse.Proxy.Balancing.Dns;
using Gatehouse.Proxy.Pipeline;
using Gatehouse.Routing;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Proxy;

/// <summary>
/// Compiles a <see cref="ProxySnapshot"/> whenever the publisher publishes and swaps it in with one volatile write.
/// Requests read <see cref="Current"/> without locks. Compilation happens on the publishing thread; publications
/// are serialised so an older config never overwrites a newer one.
/// </summary>
public sealed class ProxySnapshotProvider : IDisposable
{
    private readonly GatewayConfigPublisher _publisher;
    private readonly IReadOnlyList<IPhasePlanContributor> _contributors;
    private readonly ILogger<ProxySnapshotProvider> _logger;
    private readonly Lock _compileLock = new();
    private ProxySnapshot _current;

    private readonly DnsCache _dns;
    private readonly TimeProvider _time;
    private readonly UpstreamHealthCheckers _checkers;
    private readonly UpstreamConnector? _connector;

    /// <summary>How long building a snapshot waits for target names that have no cached answer yet. A name still
    /// unanswered then has no peers (DNS_ERROR) until its answer lands, which rebuilds its upstream.</summary>
    public static readonly TimeSpan FirstResolutionBound = TimeSpan.FromSeconds(3);

    public ProxySnapshotProvider(GatewayConfigPublisher publisher, IEnumerable<IPhasePlanContributor> contributors,
        ILogger<ProxySnapshotProvider> logger, DnsCache dns, TimeProvider? time = null,
        ILoggerFactory? loggers = null, UpstreamConnector? connector = null)
    {
        _connector = connector;
        ArgumentNullException.ThrowIfNull(dns);
        _dns = dns;
        _time = time ?? TimeProvider.System;
        _checkers = new UpstreamHealthCheckers(loggers, _time);
        ArgumentNullException.ThrowIfNull(publisher);
        ArgumentNullException.ThrowIfNull(contributors);
        ArgumentNullException.ThrowIfNull(logger);
        _publisher = publisher;
        _contributors = contributors.ToArray();
        _logger = logger;
        _current = new ProxySnapshot(GatewayConfig.Empty, Router.Empty, CompiledPipeline.Empty);
        // subscribe first, then compile what is current: no publication can slip between the two
        publisher.Published += OnPublished;
        _dns.Changed += OnDnsChanged;
        OnPublished(publisher.Current);
    }

    public ProxySnapshot Current => Volatile.Read(ref _current);

    private void OnPublished(GatewayConfig config)
    {
        lock (_compileLock)
        {
            if (config.Version < Current.Config.Version) return;
            try
            {
                var snapshot = Compile(config);
                Volatile.Write(ref _current, snapshot);
                // after the swap: a profile no longer used by the new snapshot is disposed once its requests are sent
                _connector?.Retain(snapshot.TlsProfiles);
                _logger.LogDebug("configuration {Version} compiled: {Routes} routes", config.Version, snapshot.Router.Count);
            }
            catch (Exception e)
            {
                // a bad reload keeps the last good snapshot
                _logger.LogError(e, "configuration {Version} could not be compiled; keeping the previous one", config.Version);
            }
        }
    }

    // health checkers carry over from snapshot to snapshot; a removed upstream's is stopped
    private ProxySnapshot Compile(GatewayConfig config)
    {
        var snapshot = new ProxySnapshot(config, Router.Build(config, _logger), CompiledPipeline.Compile(config, _contributors),
            BuildUpstreams(config), _connector, _logger);
        _checkers.Retain(config.Upstreams);
        return snapshot;
    }

    // upstream targets are resolved here, on the publishing thread or a DNS refresh, never on a request
    private FrozenDictionary<string, BalancedUpstream> BuildUpstreams(GatewayConfig config)
    {
        var names = BalancedUpstream.TargetNames(config);
        _dns.KeepFresh(names);
        var answers = new Dictionary<string, DnsResult>(StringComparer.OrdinalIgnoreCase);
        var pending = new List<Task<DnsResult>>();
        foreach (var name in names)
        {
            var lookup = _dns.ResolveAsync(name);
            if (lookup.IsCompleted) answers[name] = lookup.Result;
            else pending.Add(lookup.AsTask());
        }
        if (pending.Count > 0)
        {
            // a first lookup may hold the publication, but only this long (a slow DNS server must not stall it)
            try { Task.WhenAll(pending).Wait(FirstResolutionBound); }
            catch (AggregateException) { } // a lookup that failed is read below as unanswered
            var late = false;
            foreach (var lookup in pending)
            {
                if (lookup.IsCompletedSuccessfully) answers[lookup.Result.Name] = lookup.Result;
                else late = true;
            }
            if (late)
            {
                _logger.LogWarning("DNS: target names still unanswered after {Bound}; their targets take no traffic until the answers land",
                    FirstResolutionBound);
                _ = Task.WhenAll(pending).ContinueWith(_ => RebuildUpstreams(), TaskScheduler.Default);
            }
        }
        return BalancedUpstream.BuildAll(config, name => answers.GetValueOrDefault(name), HealthChecksOff.Instance, _time, _logger,
            Current.Upstreams, _checkers);
    }

    private void OnDnsChanged(DnsResult answer)
    {
        if (!BalancedUpstream.TargetNames(Current.Config).Contains(answer.Name)) return;
        _logger.LogInformation("DNS: {Name} changed; rebuilding the balancers of its upstreams", answer.Name);
        _ = Task.Run(RebuildUpstreams);
    }

    /// <summary>Swaps in the current snapshot with its upstreams rebuilt from the DNS cache's answers: same
    /// configuration, router and plans. Requests in flight keep the snapshot they started with.</summary>
    private void RebuildUpstreams()
    {
        lock (_compileLock)
        {
            var current = Current;
            try
            {
                var snapshot = new ProxySnapshot(current.Config, current.Router, current.Pipeline, BuildUpstreams(current.Config),
                    _connector, _logger);
                Volatile.Write(ref _current, snapshot);
                _connector?.Retain(snapshot.TlsProfiles);
            }
            catch (Exception e)
            {
                _logger.LogError(e, "upstreams of configuration {Version} could not be rebuilt; keeping the previous ones", current.Config.Version);
            }
        }
    }

    public void Dispose()
    {
        _publisher.Published -= OnPublished;
        _dns.Changed -= OnDnsChanged;
        _checkers.Dispose();
    }
}
