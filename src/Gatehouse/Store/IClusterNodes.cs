namespace Gatehouse.Store;

/// <summary>The nodes that share this node's database, as <c>GET /clustering/status</c> lists them.</summary>
public interface IClusterNodes
{
    Task<IReadOnlyList<ClusterNode>> ListAsync(CancellationToken ct);
}

/// <summary>One node: its id (<c>node_id</c>), host name, Gatehouse version, when it last reported, and what it serves
/// (<see cref="ConfigHash"/> is the same on nodes serving the same entities; <see cref="ConfigVersion"/> is local to
/// the node). <see cref="Stale"/>: not seen for three heartbeats (stopped, or cut off from the database).</summary>
public sealed record ClusterNode(Guid Id, string Hostname, string Version, DateTimeOffset LastSeen, string ConfigHash,
    long ConfigVersion, bool Stale);
