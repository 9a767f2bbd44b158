namespace Gatehouse.Config;

/// <summary>This node's identity as reported by <c>GET /</c>: the node id (from the <c>node_id</c> conf key or
/// <c>&lt;prefix&gt;/gatehouse.id</c> when <c>start</c> resolved one, else fixed for the process lifetime).</summary>
public sealed class AdminNodeInfo
{
    public AdminNodeInfo(Config.GatehouseOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        NodeId = options.NodeId ?? Guid.NewGuid();
    }

    public Guid NodeId { get; }
    public string Hostname { get; } = Environment.MachineName;
}
