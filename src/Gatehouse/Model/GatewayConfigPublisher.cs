namespace Gatehouse.Model;

/// <summary>
/// Holds the current <see cref="GatewayConfig"/> and tells subscribers when a new one is published.
/// One instance per gateway (a DI singleton); the store publishes, the proxy compiles and swaps.
/// </summary>
public sealed class GatewayConfigPublisher
{
    private GatewayConfig _current = GatewayConfig.Empty;

    public GatewayConfig Current => Volatile.Read(ref _current);

    /// <summary>Raised after <see cref="Current"/> has changed, on the publishing thread.</summary>
    public event Action<GatewayConfig>? Published;

    public void Publish(GatewayConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        Volatile.Write(ref _current, config);
        Published?.Invoke(config);
    }
}
