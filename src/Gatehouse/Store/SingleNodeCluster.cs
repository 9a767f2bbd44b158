using Gatehouse.Config;
using Gatehouse.Model;

namespace Gatehouse.Store;

/// <summary>SQLite and DB-less: no other node reads this node's database, so there is nobody to tell.</summary>
internal sealed class NoOtherNodes : IClusterEvents
{
    public Task AnnounceChangeAsync(CancellationToken ct) => Task.CompletedTask;
}

/// <summary>SQLite and DB-less: the cluster is this node alone.</summary>
internal sealed class ThisNodeOnly : IClusterNodes
{
    private readonly AdminNodeInfo _node;
    private readonly StoreConfigPublisher _publisher;
    private readonly GatewayConfigPublisher _config;
    private readonly TimeProvider _time;

    public ThisNodeOnly(AdminNodeInfo node, StoreConfigPublisher publisher, GatewayConfigPublisher config, TimeProvider time)
    {
        _node = node ?? throw new ArgumentNullException(nameof(node));
        _publisher = publisher ?? throw new ArgumentNullException(nameof(publisher));
        _config = config ?? throw new ArgumentNullException(nameof(config));
        _time = time ?? throw new ArgumentNullException(nameof(time));
    }

    public Task<IReadOnlyList<ClusterNode>> ListAsync(CancellationToken ct) =>
        Task.FromResult<IReadOnlyList<ClusterNode>>([new ClusterNode(_node.NodeId, _node.Hostname, GatehouseVersion.Current,
            _time.GetUtcNow(), _publisher.ConfigurationHash, _config.Current.Version, Stale: false)]);
}
