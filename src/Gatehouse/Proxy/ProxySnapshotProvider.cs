using Gatehouse.Model;
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

    public ProxySnapshotProvider(GatewayConfigPublisher publisher, IEnumerable<IPhasePlanContributor> contributors,
        ILogger<ProxySnapshotProvider> logger)
    {
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

    private ProxySnapshot Compile(GatewayConfig config) =>
        new(config, Router.Build(config, _logger), CompiledPipeline.Compile(config, _contributors));

    public void Dispose() => _publisher.Published -= OnPublished;
}
