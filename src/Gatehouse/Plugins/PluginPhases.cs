using System.Diagnostics.CodeAnalysis;

namespace Gatehouse.Plugins;

/// <summary>Which phase methods a handler type overrides.</summary>
[Flags]
internal enum PluginPhases { None = 0, Rewrite = 1, Access = 2, Header = 4, Body = 8, Log = 16 }

internal static class PluginPhasesOf
{
    public static PluginPhases Get([DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicMethods)] Type type)
    {
        var phases = PluginPhases.None;
        if (Overrides(type, nameof(PluginHandler.RewriteAsync))) phases |= PluginPhases.Rewrite;
        if (Overrides(type, nameof(PluginHandler.AccessAsync))) phases |= PluginPhases.Access;
        if (Overrides(type, nameof(PluginHandler.HeaderFilterAsync))) phases |= PluginPhases.Header;
        if (Overrides(type, nameof(PluginHandler.BodyFilterAsync))) phases |= PluginPhases.Body;
        if (Overrides(type, nameof(PluginHandler.LogAsync))) phases |= PluginPhases.Log;
        return phases;
    }

    private static bool Overrides([DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicMethods)] Type type, string method) =>
        type.GetMethod(method)?.DeclaringType is { } declaring && declaring != typeof(PluginHandler);
}
