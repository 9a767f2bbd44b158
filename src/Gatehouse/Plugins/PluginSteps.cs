using Gatehouse.Proxy.Pipeline;
using Gatehouse.Proxy.Tracing;

namespace Gatehouse.Plugins;

/// <summary>The phase handlers a plugin slot contributes, one class per phase so that the plan files each under
/// exactly that phase. <see cref="IPhaseHandler.Name"/> is the plugin name.</summary>
internal abstract class PluginStep(PluginSlot slot) : IPhaseHandler
{
    public string Name => Slot.Name;

    public string Kind => "plugin";
    public bool RecordsSpans => Slot.RecordsSpans;
    public ulong SkipBits => Slot.SkipBit;
    public PluginSlot Slot { get; } = slot;

    /// <summary>The id of the instance that applies to this request (Kong's <c>plugins.&lt;name&gt;.&lt;id&gt;</c> span);
    /// null when none does, and the step then does nothing.</summary>
    public string? DebugInstance(ProxyContext context) => Slot.ResolveCandidate(Kong.For(context))?.Id;

    private string? _spanName;

    /// <summary>Made once: a step runs in one phase only (a race makes the same string twice, harmlessly).</summary>
    public string TraceSpanName(string phase) => _spanName ??= $"kong.{phase}.plugin.{Name}";

    /// <param name="accessStep">the skip bit <see cref="Kong.SkipLaterPhases"/> marks while this step runs: the access
    /// step's slot's, 0 in the other phases</param>
    protected (Kong Kong, PluginHandler? Handler) Resolve(ProxyContext context, ulong accessStep = 0)
    {
        var kong = Kong.For(context);
        kong.RunningAccessStep = accessStep;
        return (kong, Slot.Resolve(kong));
    }
}

internal sealed class PluginRewriteStep(PluginSlot slot) : PluginStep(slot), IRewriteHandler
{
    public ValueTask<PhaseOutcome> OnRewriteAsync(ProxyContext context)
    {
        var (kong, handler) = Resolve(context);
        return handler?.RewriteAsync(kong) ?? ValueTask.FromResult(PhaseOutcome.Continue);
    }
}

internal sealed class PluginAccessStep(PluginSlot slot) : PluginStep(slot), IAccessHandler, IUpfrontSampler
{
    public ValueTask<PhaseOutcome> OnAccessAsync(ProxyContext context)
    {
        var (kong, handler) = Resolve(context, Slot.SkipBit);
        return handler?.AccessAsync(kong) ?? ValueTask.FromResult(PhaseOutcome.Continue);
    }

    /// <summary>The opentelemetry plugin's step (its instances are samplers).</summary>
    public bool DecidesSampling => Slot.Name == TracingPlugin.Name;

    /// <summary>The instance that applies to the request decides, if it is a sampler; with steps ahead, only when which
    /// instance applies cannot change with the consumer they authenticate.</summary>
    public bool LeavesOut(ProxyContext context, bool ahead) =>
        !(ahead && Slot.DependsOnConsumer) && Resolve(context).Handler is IUpfrontSampler sampler && sampler.LeavesOut(context, ahead);
}

internal sealed class PluginHeaderStep(PluginSlot slot) : PluginStep(slot), IResponseHeadersHandler
{
    public ValueTask OnResponseHeadersAsync(ProxyContext context)
    {
        var (kong, handler) = Resolve(context);
        return handler?.HeaderFilterAsync(kong) ?? ValueTask.CompletedTask;
    }
}

internal sealed class PluginBodyStep(PluginSlot slot) : PluginStep(slot), IResponseBodyHandler
{
    public ValueTask<BodyOutcome> OnResponseBodyAsync(ProxyContext context, BodyChunk chunk)
    {
        var (kong, handler) = Resolve(context);
        return handler?.BodyFilterAsync(kong, chunk) ?? ValueTask.FromResult(BodyOutcome.Continue);
    }
}

internal sealed class PluginLogStep(PluginSlot slot) : PluginStep(slot), ILogHandler
{
    public ValueTask OnLogAsync(ProxyContext context)
    {
        var (kong, handler) = Resolve(context);
        return handler?.LogAsync(kong) ?? ValueTask.CompletedTask;
    }
}

/// <summary>Applies response headers plugins set during the request phases (first in the header phase).</summary>
internal sealed class DeferredHeadersStep : IResponseHeadersHandler
{
    public static DeferredHeadersStep Instance { get; } = new();
    public string Name => "kong.response.set_header";
    /// <summary>Passed over while no header is deferred (<see cref="Kong.NoPendingHeaders"/>).</summary>
    public ulong SkipBits => Kong.NoPendingHeaders;

    public ValueTask OnResponseHeadersAsync(ProxyContext context)
    {
        if (context.PluginState is Kong kong) kong.ApplyPendingHeaders();
        return ValueTask.CompletedTask;
    }
}
