using Gatehouse.Proxy.Pipeline;

namespace Gatehouse.Plugins;

/// <summary>
/// One configured plugin instance's behaviour. Override only the phases the plugin uses; the plan contributor
/// files the instance only under those phases (so e.g. a plugin without a body handler never removes
/// Content-Length). Shared by every request of a snapshot: per-request state belongs in <see cref="Kong.Ctx"/>.
/// </summary>
public abstract class PluginHandler
{
    public virtual ValueTask<PhaseOutcome> RewriteAsync(Kong kong) => ValueTask.FromResult(PhaseOutcome.Continue);
    public virtual ValueTask<PhaseOutcome> AccessAsync(Kong kong) => ValueTask.FromResult(PhaseOutcome.Continue);
    public virtual ValueTask HeaderFilterAsync(Kong kong) => ValueTask.CompletedTask;
    public virtual ValueTask<BodyOutcome> BodyFilterAsync(Kong kong, BodyChunk chunk) => ValueTask.FromResult(BodyOutcome.Continue);
    public virtual ValueTask LogAsync(Kong kong) => ValueTask.CompletedTask;

    internal PluginPhases Phases => PluginPhasesOf.Get(GetType());
}

/// <summary>Which phase methods a handler type overrides.</summary>
[Flags]
internal enum PluginPhases { None = 0, Rewrite = 1, Access = 2, Header = 4, Body = 8, Log = 16 }

internal static class PluginPhasesOf
{
    public static PluginPhases Get(Type type)
    {
        var phases = PluginPhases.None;
        if (Overrides(type, nameof(PluginHandler.RewriteAsync))) phases |= PluginPhases.Rewrite;
        if (Overrides(type, nameof(PluginHandler.AccessAsync))) phases |= PluginPhases.Access;
        if (Overrides(type, nameof(PluginHandler.HeaderFilterAsync))) phases |= PluginPhases.Header;
        if (Overrides(type, nameof(PluginHandler.BodyFilterAsync))) phases |= PluginPhases.Body;
        if (Overrides(type, nameof(PluginHandler.LogAsync))) phases |= PluginPhases.Log;
        return phases;
    }

    private static bool Overrides(Type type, string method) =>
        type.GetMethod(method)?.DeclaringType is { } declaring && declaring != typeof(PluginHandler);
}
