using Gatehouse.Model;

namespace Gatehouse.Plugins;

/// <summary>What a plugin handler may use when it is built for a snapshot: the configuration with its consumer
/// indexes, the plugin row, and the long-lived services (counters, logging, time).</summary>
public sealed class PluginBuildContext
{
    public PluginBuildContext(GatewayConfig config, ConsumerIndex consumers, PluginModel plugin, PluginServices services)
    {
        Config = config ?? throw new ArgumentNullException(nameof(config));
        Consumers = consumers ?? throw new ArgumentNullException(nameof(consumers));
        Plugin = plugin ?? throw new ArgumentNullException(nameof(plugin));
        Services = services ?? throw new ArgumentNullException(nameof(services));
    }

    public GatewayConfig Config { get; }
    public ConsumerIndex Consumers { get; }
    public PluginModel Plugin { get; }
    public PluginServices Services { get; }
}
