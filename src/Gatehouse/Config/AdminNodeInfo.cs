namespace Gatehouse.Config;

/// <summary>This node's identity as reported by <c>GET /</c>: a node id fixed for the process lifetime.</summary>
public sealed class AdminNodeInfo
{
    public Guid NodeId { get; } = Guid.NewGuid();
    public string Hostname { get; } = Environment.MachineName;
    public string Version { get; } = typeof(AdminNodeInfo).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";
}
