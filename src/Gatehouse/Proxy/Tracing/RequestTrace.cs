using Gatehouse.Config;
using System.Diagnostics;

namespace Gatehouse.Proxy.Tracing;

/// <summary>
/// One span of a request's trace as the proxy records it: names and times only. The span's identity (an
/// <see cref="System.Diagnostics.Activity"/>) is made by the exporter (the opentelemetry plugin) when it first needs it:
/// the root once the trace context is extracted, the first balancer span when it is injected, the rest at export.
/// </summary>
public sealed class TraceSpan
{
    private List<KeyValuePair<string, object?>>? _attributes;

    internal TraceSpan(string name, TraceSpan? parent, ActivityKind kind)
    {
        Name = name;
        Parent = parent;
        Kind = kind;
    }

    // room for the attributes most spans get (a filter callback's 8, a try's 5) without growing; the request span has
    // about a dozen
    private int AttributeCapacity => Parent is null ? 16 : 8;

    public string Name { get; }
    public TraceSpan? Parent { get; }
    public ActivityKind Kind { get; }
    public DateTime Start { get; internal set; }
    /// <summary><see cref="DateTime.MinValue"/> while open. Written last, with release semantics: a span another thread
    /// ends (an HTTP call answered while the request goes on) is read whole by whoever sees it ended.</summary>
    public DateTime End
    {
        get => new(Volatile.Read(ref _endTicks), DateTimeKind.Utc);
        internal set => Volatile.Write(ref _endTicks, value.Ticks);
    }
    private long _endTicks;
    /// <summary>Set when the step failed; the span's status is then Error with this description.</summary>
    public string? Error { get; set; }
    public IReadOnlyList<KeyValuePair<string, object?>> Attributes => _attributes ?? (IReadOnlyList<KeyValuePair<string, object?>>)[];
    /// <summary>The span's identity once the exporter made it.</summary>
    public Activity? Activity { get; set; }

    /// <summary>Sets an attribute (a second value of the same key replaces the first).</summary>
    public void Set(string key, object? value)
    {
        var attributes = _attributes ??= new(AttributeCapacity);
        for (var i = 0; i < attributes.Count; i++)
        {
            if (attributes[i].Key != key) continue;
            attributes[i] = new(key, value);
            return;
        }
        attributes.Add(new(key, value));
    }
}

/// <summary>
/// The spans of one request (Kong's <c>ngx.ctx.KONG_SPANS</c>), recorded only when the snapshot has an enabled
/// opentelemetry plugin (<see cref="ProxySnapshot.TracesRequests"/>); otherwise the request has none and every
/// instrumentation point is one null check.
/// </summary>
public sealed class RequestTrace
{
    private readonly List<TraceSpan> _spans = [];

    public RequestTrace(TracedSteps steps) : this(steps, DateTime.UtcNow) { }

    /// <param name="start">when the request started (a trace made after it, <see cref="PendingTrace"/>)</param>
    public RequestTrace(TracedSteps steps, DateTime start)
    {
        Steps = steps;
        Root = new TraceSpan("kong", null, ActivityKind.Server) { Start = start };
        _spans.Add(Root);
    }

    /// <summary>Which steps get spans (<c>tracing_instrumentations</c>).</summary>
    public TracedSteps Steps { get; }
    public bool Traces(TracedSteps step) => (Steps & step) != 0;
    /// <summary>Kong's request span, <c>kong</c>.</summary>
    public TraceSpan Root { get; }
    /// <summary>Every span in the order opened (root first, so a parent always comes before its children).</summary>
    public IReadOnlyList<TraceSpan> Spans => _spans;
    /// <summary>The span the first upstream try will use, made before the try so its id can be injected (Kong's
    /// prepared balancer span).</summary>
    public TraceSpan? PreparedBalancer { get; private set; }
    /// <summary>The step span open now (a plugin or filter step), for the step to note its failure in.</summary>
    public TraceSpan? Current { get; set; }
    /// <summary>Decided by the exporter (sampling); unsampled traces are propagated but not exported.</summary>
    public bool Sampled { get; set; } = true;
    /// <summary>Where a new upstream connection records the name lookup it made (<c>dns_query</c>), read after each try.</summary>
    public DnsLookupProbe? DnsProbe { get; set; }
    /// <summary>The exporter's per-request state (the extracted context, the injected format).</summary>
    public object? ExporterState { get; set; }

    /// <summary>The exporter, handed the trace once the log phase is over (<see cref="Complete"/>), so the spans of
    /// log-phase steps (filters' <c>on_log</c>) are in it.</summary>
    public ITraceSink? Sink { get; set; }

    /// <summary>Opens a span. Thread-safe: a filter's <c>on_http_call_response</c> arrives on a pool thread while the
    /// request may run another step. A span opened after <see cref="Complete"/> is recorded nowhere.</summary>
    public TraceSpan Open(string name, TraceSpan? parent = null, ActivityKind kind = ActivityKind.Internal)
    {
        lock (_spans)
        {
            var span = new TraceSpan(name, parent ?? (_spans.Count == 0 ? null : Root), kind) { Start = DateTime.UtcNow };
            if (!_completed) _spans.Add(span);
            return span;
        }
    }

    private bool _completed;

    /// <summary>A span already ended, under the root (the router's, timed before the trace was made).</summary>
    internal void Add(string name, DateTime start, DateTime end)
    {
        var span = new TraceSpan(name, Root, ActivityKind.Internal) { Start = start, End = end };
        lock (_spans) _spans.Add(span);
    }

    /// <summary>End of the log phase: no span is added any more; the sink (if the exporter set one) exports.</summary>
    public void Complete()
    {
        lock (_spans) _completed = true;
        Sink?.Export(this);
    }

    public static void Close(TraceSpan span) => span.End = DateTime.UtcNow;

    /// <summary>The span of the first upstream try, made ahead of it; null when balancer spans are off (Kong then
    /// injects the request span).</summary>
    public TraceSpan? PrepareBalancer()
    {
        if (!Traces(TracedSteps.Balancer)) return null;
        if (PreparedBalancer is null)
        {
            PreparedBalancer = new TraceSpan("kong.balancer", Root, ActivityKind.Client);
            lock (_spans) _spans.Add(PreparedBalancer);
        }
        return PreparedBalancer;
    }

    /// <summary>A balancer span for one try: the prepared one for the first, a new one after.</summary>
    public TraceSpan? BeginTry()
    {
        if (!Traces(TracedSteps.Balancer)) return null;
        if (PreparedBalancer is { Start.Ticks: 0 } prepared)
        {
            prepared.Start = DateTime.UtcNow;
            return prepared;
        }
        return Open("kong.balancer", Root, ActivityKind.Client);
    }
}

/// <summary>Exports a request's finished trace (the opentelemetry plugin).</summary>
public interface ITraceSink
{
    void Export(RequestTrace trace);
}

/// <summary>The plugin whose presence turns request tracing on.</summary>
public static class TracingPlugin
{
    public const string Name = "opentelemetry";
}
