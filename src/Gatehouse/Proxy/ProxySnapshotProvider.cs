using Gatehouse.Model;
using Gatehouse.Proxy.Balancing.Health;
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

    private readonly HostResolver _resolve;
    private readonly TimeProvider _time;
    private readonly UpstreamHealthCheckers _checkers;

    public ProxySnapshotProvider(GatewayConfigPublisher publisher, IEnumerable<IPhasePlanContributor> contributors,
        ILogger<ProxySnapshotProvider> logger, HostResolver? resolve = null, TimeProvider? time = null,
        ILoggerFactory? loggers = null)
    {
        _resolve = resolve ?? (host => System.Net.Dns.GetHostAddresses(host));
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
                _logger.LogDebug("configuration {Version} compiled: {Routes} routes", config.Version, snapshot.Router.Count);
            }
            catch (Exception e)
            {
                // a bad reload keeps the last good snapshot
                _logger.LogError(e, "configuration {Version} could not be compiled; keeping the previous one", config.Version);
            }
        }
    }

    // upstream targets are resolved here, on the publishing thread, never on a request; health checkers carry over
    private ProxySnapshot Compile(GatewayConfig config)
    {
        var snapshot = new ProxySnapshot(config, Router.Build(config, _logger), CompiledPipeline.Compile(config, _contributors),
            BalancedUpstream.BuildAll(config, _resolve, HealthChecksOff.Instance, _time, _logger, Current.Upstreams, _checkers));
        _checkers.Retain(config.Upstreams);
        return snapshot;
    }

    public void Dispose()
    {
        _publisher.Published -= OnPublished;
        _checkers.Dispose();
    }
}
