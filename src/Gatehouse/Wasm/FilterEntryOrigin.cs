namespace Gatehouse.Wasm;

/// <summary>Where a filter entry of a route's effective chain comes from: the route's or the service's
/// <c>filter_chains</c> entity (<see cref="ChainId"/>, its optional name), or a filter plugin of that scope
/// (<see cref="PluginId"/>). Only the traces use it.</summary>
internal sealed record FilterEntryOrigin(string Scope, Guid? ChainId, string? ChainName, Guid? PluginId = null)
{
    /// <summary>The ids as span attribute values, made once per chain build rather than per traced request.</summary>
    public string? ChainIdText { get; } = ChainId?.ToString();

    public string? PluginIdText { get; } = PluginId?.ToString();

    /// <summary>An entry of a route's last good chain kept after a configuration was refused.</summary>
    public static FilterEntryOrigin Unknown { get; } = new("unknown", null, null);
}
