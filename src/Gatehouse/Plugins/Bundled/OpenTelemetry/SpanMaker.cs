using System.Diagnostics;
using Gatehouse.Proxy.Tracing;

namespace Gatehouse.Plugins.Bundled.OpenTelemetry;

/// <summary>
/// Gives recorded spans their identity: an <see cref="Activity"/> of the plugin's own source, parented explicitly
/// (the root on the extracted context, or on a new trace id; every other span on its recorded parent), never left
/// as <see cref="Activity.Current"/> (the request's async flow must not see it).
/// </summary>
internal sealed class SpanMaker(ActivitySource source)
{
    /// <summary>The request span, in <paramref name="traceId"/> (the client's or a new one) under the client's span
    /// when it sent one.</summary>
    public void MakeRoot(TraceSpan root, ActivityTraceId traceId, ActivitySpanId? parent, bool sampled)
    {
        var flags = sampled ? ActivityTraceFlags.Recorded : ActivityTraceFlags.None;
        // no parent: a context with no span id gives the span the trace id and no parent
        var context = parent is { } id
            ? new ActivityContext(traceId, id, flags, isRemote: true)
            : new ActivityContext(traceId, default, flags);
        root.Activity = Start(root, context);
    }

    /// <param name="restoreCurrent">false when the caller makes several and restores <see cref="Activity.Current"/>
    /// once itself (<see cref="Activity.Start"/> sets it, and each set of an async-local allocates)</param>
    public Activity Make(TraceSpan span, bool sampled, bool restoreCurrent = true)
    {
        if (span.Activity is { } made) return made;
        var parent = span.Parent?.Activity ?? throw new InvalidOperationException($"span {span.Name}: parent has no identity");
        var context = new ActivityContext(parent.TraceId, parent.SpanId, sampled ? ActivityTraceFlags.Recorded : ActivityTraceFlags.None);
        span.Activity = Start(span, context, restoreCurrent);
        return span.Activity;
    }

    private Activity Start(TraceSpan span, ActivityContext parent, bool restoreCurrent = true)
    {
        var previous = restoreCurrent ? Activity.Current : null;
        var activity = source.CreateActivity(span.Name, span.Kind, parent, idFormat: ActivityIdFormat.W3C)
            ?? throw new InvalidOperationException("the opentelemetry source has no listener");
        activity.Start();
        if (restoreCurrent) Activity.Current = previous;
        return activity;
    }

    /// <summary>Times, attributes and status as recorded.</summary>
    public static void Finish(Activity activity, TraceSpan span)
    {
        activity.SetStartTime(span.Start);
        activity.SetEndTime(span.End);
        // keys are unique already (TraceSpan.Set) and the Activity has no tags yet: AddTag, not SetTag's search of the
        // tags so far; a null value is no tag (as SetTag); indexed, as a foreach over the list's interface allocates
        var attributes = span.Attributes;
        for (var i = 0; i < attributes.Count; i++)
            if (attributes[i] is { Value: not null } attribute) activity.AddTag(attribute.Key, attribute.Value);
        if (span.Error is not null) activity.SetStatus(ActivityStatusCode.Error, span.Error);
    }
}
