using System.Diagnostics.CodeAnalysis;
using Gatehouse.Proxy.Pipeline;

namespace Gatehouse.Plugins;

/// <summary>
/// One configured plugin instance's behaviour. Override only the phases the plugin uses; the plan contributor
/// files the instance only under those phases (so e.g. a plugin without a body handler never removes
/// Content-Length). Shared by every request of a snapshot: per-request state belongs in <see cref="Kong.Ctx"/>.
/// </summary>
// Public methods kept on every handler type: PluginPhasesOf reads which phases a handler overrides from them (also
// in a NativeAOT build, where only what is annotated survives trimming).
[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicMethods)]
public abstract class PluginHandler
{
    public virtual ValueTask<PhaseOutcome> RewriteAsync(Kong kong) => ValueTask.FromResult(PhaseOutcome.Continue);
    public virtual ValueTask<PhaseOutcome> AccessAsync(Kong kong) => ValueTask.FromResult(PhaseOutcome.Continue);
    public virtual ValueTask HeaderFilterAsync(Kong kong) => ValueTask.CompletedTask;
    public virtual ValueTask<BodyOutcome> BodyFilterAsync(Kong kong, BodyChunk chunk) => ValueTask.FromResult(BodyOutcome.Continue);
    public virtual ValueTask LogAsync(Kong kong) => ValueTask.CompletedTask;

    internal PluginPhases Phases => PluginPhasesOf.Get(GetType());

    /// <summary>Records spans of its own in the request's trace (a store query, an HTTP call). Set it when a handler
    /// does: the opentelemetry plugin then makes the trace before this step runs ahead of it, instead of deciding
    /// sampling first (a request it would sample only at its own step would otherwise lack those spans).</summary>
    internal virtual bool RecordsSpans => false;
}
