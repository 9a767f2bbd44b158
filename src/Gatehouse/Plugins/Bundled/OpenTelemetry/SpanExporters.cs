using System.Collections.Concurrent;
using System.Diagnostics;
using Gatehouse.Plugins.Bundled.Prometheus;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Gatehouse.Plugins.Bundled.OpenTelemetry;

/// <summary>What one exporter is built from (its key: instances with the same settings share one queue, and a
/// configuration reload keeps it).</summary>
internal sealed record SpanExportSettings(Uri Endpoint, IReadOnlyList<KeyValuePair<string, string>> Headers,
    IReadOnlyList<KeyValuePair<string, string>> ResourceAttributes, int MaxBatchSize, TimeSpan CoalescingDelay,
    int MaxEntries, TimeSpan ConnectTimeout, TimeSpan SendTimeout, TimeSpan ReadTimeout)
{
    public string Key => string.Join('\n', [Endpoint.ToString(), .. Headers.Select(h => h.Key + ":" + h.Value),
        .. ResourceAttributes.Select(a => a.Key + "=" + a.Value),
        $"{MaxBatchSize} {CoalescingDelay.Ticks} {MaxEntries} {ConnectTimeout.Ticks} {SendTimeout.Ticks} {ReadTimeout.Ticks}"]);
}

/// <summary>
/// The span exporters of the opentelemetry plugin instances, one per distinct export setting. An exporter no
/// configuration build asked for during <see cref="RetireAfter"/> (its plugin changed or was deleted) is closed at the
/// next build, after sending what it holds (requests on an older snapshot may still add spans meanwhile). Also owns the <see cref="ActivitySource"/> spans are made from and its listener, registered when the
/// first instance is built (a gateway without the plugin has none).
/// </summary>
public sealed class SpanExporters : IDisposable
{
    internal const string SourceName = "Gatehouse.OpenTelemetry";
    public static readonly TimeSpan RetireAfter = TimeSpan.FromMinutes(10);
    private readonly ConcurrentDictionary<string, Entry> _queues = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private long _generation;
    private readonly PrometheusMetrics _metrics;
    private readonly ILoggerFactory _loggers;
    private readonly Lazy<(ActivitySource Source, ActivityListener Listener)> _source = new(CreateSource);

    /// <param name="defaultSamplingRate"><c>tracing_sampling_rate</c>: the rate of instances without <c>sampling_rate</c></param>
    public SpanExporters(PrometheusMetrics metrics, ILoggerFactory loggers, TimeProvider time, double defaultSamplingRate = 0.01)
    {
        _time = time ?? throw new ArgumentNullException(nameof(time));
        DefaultSamplingRate = defaultSamplingRate;
        _metrics = metrics ?? throw new ArgumentNullException(nameof(metrics));
        _loggers = loggers ?? throw new ArgumentNullException(nameof(loggers));
    }

    internal ActivitySource Source => _source.Value.Source;
    public double DefaultSamplingRate { get; }

    /// <summary>The exporters now open.</summary>
    public int Count => _queues.Count;

    internal SpanQueue For(SpanExportSettings settings)
    {
        var entry = _queues.GetOrAdd(settings.Key, _ => new Entry(new Lazy<SpanQueue>(() => new SpanQueue(settings, _metrics, _loggers.CreateLogger<SpanQueue>()))));
        Volatile.Write(ref entry.Generation, Volatile.Read(ref _generation));
        return entry.Queue.Value;
    }

    /// <summary>A configuration build starts (the plugin plan contributor's).</summary>
    public long BeginGeneration() => Interlocked.Increment(ref _generation);

    /// <summary>A configuration build ended: an exporter it did not ask for is marked unused, and one unused for
    /// <see cref="RetireAfter"/> is removed and closed in the background.</summary>
    public void EndGeneration(long generation)
    {
        // every build calls this: without an exporter, return before a method that names SpanQueue is jitted, so a
        // gateway without the plugin does not load the OpenTelemetry SDK (issue #16 goal 4)
        if (!_queues.IsEmpty) RetireUnused(generation);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private void RetireUnused(long generation)
    {
        var now = _time.GetUtcNow();
        foreach (var (key, entry) in _queues)
        {
            if (Volatile.Read(ref entry.Generation) >= generation)
            {
                entry.UnusedSince = null;
                continue;
            }
            entry.UnusedSince ??= now;
            if (now - entry.UnusedSince < RetireAfter || !_queues.TryRemove(KeyValuePair.Create(key, entry))) continue;
            if (entry.Queue.IsValueCreated) _ = Task.Run(entry.Queue.Value.Dispose);
        }
    }

    private sealed class Entry(Lazy<SpanQueue> queue)
    {
        public Lazy<SpanQueue> Queue { get; } = queue;
        public long Generation;
        public DateTimeOffset? UnusedSince { get; set; }
    }

    private static (ActivitySource, ActivityListener) CreateSource()
    {
        var source = new ActivitySource(SourceName, GatehouseVersion.Kong);
        // spans are made only for sampled, traced requests: every one is recorded
        var listener = new ActivityListener
        {
            ShouldListenTo = s => ReferenceEquals(s, source),
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        return (source, listener);
    }

    public void Dispose()
    {
        foreach (var entry in _queues.Values)
            if (entry.Queue.IsValueCreated) entry.Queue.Value.Dispose();
        if (_source.IsValueCreated)
        {
            _source.Value.Listener.Dispose();
            _source.Value.Source.Dispose();
        }
    }
}

/// <summary>
/// A bounded queue in front of the SDK's OTLP/HTTP protobuf exporter: a request only enqueues its spans (a full queue
/// drops them, counted in <c>gatehouse_opentelemetry_spans_dropped_total{reason="queue_full"}</c>); one background
/// loop sends batches of up to <c>queue.max_batch_size</c>, starting <c>queue.max_coalescing_delay</c> after the first
/// span was queued, or as soon as a batch is full (Kong's queue). A batch the collector does not take is dropped and
/// counted (<c>reason="export_failed"</c>). The loop is woken twice per batch at most (the first span, a full batch),
/// never per span: a wake-up is a thread-pool hop, and on a busy gateway those cost more than the spans. Closing
/// (gateway stop, or the exporter retired) sends what is queued within the drain timeout; past it the export under way
/// is cancelled (<c>export_failed</c>) and every span still queued, or offered after the close, is counted
/// (<c>reason="shutdown"</c>): each span is exported or counted once.
/// </summary>
internal sealed class SpanQueue : BaseExportProcessor<Activity>
{
    private readonly ConcurrentQueue<Activity> _spans = new();
    // spans reserved in the queue (counted before they are enqueued, so the bound holds under concurrent writers)
    private int _queued;
    private readonly SemaphoreSlim _wake = new(0);
    private volatile bool _closing;
    private readonly SpanExportSettings _settings;
    private readonly PrometheusMetrics _metrics;
    // looked up once: a full queue drops every span of every request, and a label lookup per drop would add to the load
    private readonly global::Prometheus.Counter.Child _queueFull;
    private readonly global::Prometheus.Counter.Child _shutdown;
    /// <summary>After a drain timed out: how long the loop has to count the batch whose export was cancelled.</summary>
    private static readonly TimeSpan CancelledExportGrace = TimeSpan.FromSeconds(2);
    // spans accepted and neither exported nor counted dropped yet; settled by the loop per batch, or all at once when
    // the drain gives up (then the loop counts nothing more: _abandoned, under _settle)
    private long _unsettled;
    private readonly Lock _settle = new();
    private bool _abandoned;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly TracerProvider _provider;
    private readonly Task _loop;
    private int _disposed;
    private int _wakeups;

    /// <summary>How many times the loop has woken (for the test that it is not once per span).</summary>
    internal int Wakeups => Volatile.Read(ref _wakeups);

    public SpanQueue(SpanExportSettings settings, PrometheusMetrics metrics, ILogger logger)
        : base(new OtlpTraceExporter(ExporterOptions(settings)))
    {
        _settings = settings;
        _metrics = metrics;
        _queueFull = metrics.OpenTelemetrySpansDropped.WithLabels("queue_full");
        _shutdown = metrics.OpenTelemetrySpansDropped.WithLabels("shutdown");
        _logger = logger;
        // the provider gives the exporter its resource (service.name and the configured attributes); it listens to no source
        _provider = Sdk.CreateTracerProviderBuilder()
            .SetResourceBuilder(ResourceBuilder.CreateEmpty().AddAttributes(Resource(settings)))
            .AddProcessor(this)
            .Build()!;
        // a thread of its own, blocking between batches: the export is synchronous (the SDK's exporter), and a pool
        // worker woken for each batch and each answer of the collector spins (sched_yield) before it sleeps again, on
        // the core the requests run on (bench/NOTES.md, O1-low's thread-pool spin)
        _loop = Task.Factory.StartNew(Loop, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    private static IEnumerable<KeyValuePair<string, object>> Resource(SpanExportSettings settings)
    {
        var attributes = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["service.name"] = "kong",
            ["service.version"] = GatehouseVersion.Kong,
        };
        foreach (var (key, value) in settings.ResourceAttributes) attributes[key] = value;
        return attributes;
    }

    private static OtlpExporterOptions ExporterOptions(SpanExportSettings settings) => new()
    {
        Endpoint = settings.Endpoint,
        Protocol = OtlpExportProtocol.HttpProtobuf,
        // one budget for sending the request and reading the answer (Kong's send_timeout + read_timeout)
        TimeoutMilliseconds = (int)(settings.SendTimeout + settings.ReadTimeout).TotalMilliseconds,
        HttpClientFactory = () =>
        {
            var client = new HttpClient(new SocketsHttpHandler { UseProxy = false, ConnectTimeout = settings.ConnectTimeout })
            {
                Timeout = settings.SendTimeout + settings.ReadTimeout,
            };
            foreach (var (name, value) in settings.Headers) client.DefaultRequestHeaders.TryAddWithoutValidation(name, value);
            return client;
        },
    };

    /// <summary>Enqueues a finished span; never waits.</summary>
    protected override void OnExport(Activity data)
    {
        if (_closing)
        {
            _shutdown.Inc();
            return;
        }
        var queued = Interlocked.Increment(ref _queued);
        if (queued > _settings.MaxEntries)
        {
            Interlocked.Decrement(ref _queued);
            _queueFull.Inc();
            return;
        }
        Interlocked.Increment(ref _unsettled);
        _spans.Enqueue(data);
        // the first span starts the coalescing delay; a full batch ends it
        if (queued == 1 || queued == _settings.MaxBatchSize) _wake.Release();
    }

    private void Loop()
    {
        var batch = new Activity[_settings.MaxBatchSize];
        try
        {
            while (true)
            {
                _wake.Wait(_stop.Token);
                Interlocked.Increment(ref _wakeups);
                if (Volatile.Read(ref _queued) == 0)
                {
                    if (_closing) return;
                    continue; // a wake-up whose spans an earlier round sent
                }
                if (!_closing && Volatile.Read(ref _queued) < batch.Length)
                {
                    _wake.Wait(_settings.CoalescingDelay, _stop.Token);
                    Interlocked.Increment(ref _wakeups);
                }
                SendQueued(batch);
                if (_closing && Volatile.Read(ref _queued) == 0) return;
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested) { }
    }

    /// <summary>Sends what is queued, a batch at a time, until the queue is empty.</summary>
    private void SendQueued(Activity[] batch)
    {
        while (true)
        {
            var count = 0;
            // the drain gave up: what is left stays unsettled, counted by OnShutdown
            if (_stop.IsCancellationRequested) return;
            while (count < batch.Length && _spans.TryDequeue(out var span))
            {
                batch[count++] = span;
                Interlocked.Decrement(ref _queued);
            }
            if (count == 0) return;
            Send(batch, count);
            Array.Clear(batch, 0, count);
        }
    }

    private void Send(Activity[] batch, int count)
    {
        ExportResult result;
        try { result = exporter.Export(new Batch<Activity>(batch, count)); }
        catch (Exception e)
        {
            OpenTelemetryLog.ExportFailed(_logger, e, _settings.Endpoint.Host, count);
            result = ExportResult.Failure;
        }
        lock (_settle)
        {
            if (_abandoned) return; // counted when the drain gave up
            Interlocked.Add(ref _unsettled, -count);
            if (result == ExportResult.Success) return;
            _metrics.OpenTelemetrySpansDropped.WithLabels("export_failed").Inc(count);
        }
        OpenTelemetryLog.ExportFailed(_logger, null, _settings.Endpoint.Host, count);
    }

    /// <summary>What is queued is still sent up to the timeout; then the export under way is cancelled (its batch
    /// counts as export_failed) and what is left is counted dropped (shutdown).</summary>
    protected override bool OnShutdown(int timeoutMilliseconds)
    {
        _closing = true;
        _wake.Release();
        var drained = _loop.Wait(timeoutMilliseconds);
        if (!drained)
        {
            _stop.Cancel(); // the loop sends no further batch
            base.OnShutdown(0); // the exporter's shutdown cancels its request under way
            _loop.Wait(CancelledExportGrace);
        }
        long left;
        lock (_settle)
        {
            _abandoned = true;
            // after a drain that timed out: what was still queued; after one that ended: a span queued as it ended
            left = Interlocked.Exchange(ref _unsettled, 0);
        }
        if (left > 0)
        {
            _shutdown.Inc(left);
            OpenTelemetryLog.DrainTimedOut(_logger, _settings.Endpoint.Host, left, timeoutMilliseconds);
        }
        return drained && base.OnShutdown(timeoutMilliseconds);
    }

    protected override void Dispose(bool disposing)
    {
        // the provider shuts this processor down (draining the queue) and disposes it again
        if (disposing && Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _provider.Dispose();
            _stop.Cancel();
        }
        base.Dispose(disposing);
    }
}

internal static partial class OpenTelemetryLog
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "opentelemetry: {Count} spans to {Host} were dropped: the collector did not take them")]
    public static partial void ExportFailed(ILogger logger, Exception? exception, string host, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "opentelemetry: {Count} spans to {Host} were dropped: the exporter closed and its drain ended after {TimeoutMs} ms before they were sent")]
    public static partial void DrainTimedOut(ILogger logger, string host, long count, int timeoutMs);
}
