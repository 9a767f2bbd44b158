using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
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
/// loop sends batches of up to <c>queue.max_batch_size</c>, waiting at most <c>queue.max_coalescing_delay</c> for a
/// batch to fill. A batch the collector does not take is dropped and counted (<c>reason="export_failed"</c>). Closing
/// (gateway stop, or the exporter retired) sends what is queued within the drain timeout; past it the export under way
/// is cancelled (<c>export_failed</c>) and every span still queued, or offered after the close, is counted
/// (<c>reason="shutdown"</c>): each span is exported or counted once.
/// </summary>
internal sealed class SpanQueue : BaseExportProcessor<Activity>
{
    /// <summary>After a drain timed out: how long the loop has to count the batch whose export was cancelled.</summary>
    private static readonly TimeSpan CancelledExportGrace = TimeSpan.FromSeconds(2);
    private readonly Channel<Activity> _channel;
    private readonly SpanExportSettings _settings;
    private readonly PrometheusMetrics _metrics;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly TracerProvider _provider;
    private readonly Task _loop;
    // spans accepted and neither exported nor counted dropped yet; settled by the loop per batch, or all at once when
    // the drain gives up (then the loop counts nothing more: _abandoned, under _settle)
    private long _unsettled;
    private readonly Lock _settle = new();
    private bool _abandoned;
    private volatile bool _closed;
    private int _disposed;

    public SpanQueue(SpanExportSettings settings, PrometheusMetrics metrics, ILogger logger)
        : base(new OtlpTraceExporter(ExporterOptions(settings)))
    {
        _settings = settings;
        _metrics = metrics;
        _logger = logger;
        _channel = Channel.CreateBounded<Activity>(new BoundedChannelOptions(settings.MaxEntries)
        {
            FullMode = BoundedChannelFullMode.Wait, // TryWrite answers false when full: the span is dropped, never waited for
            SingleReader = true,
        });
        // the provider gives the exporter its resource (service.name and the configured attributes); it listens to no source
        _provider = Sdk.CreateTracerProviderBuilder()
            .SetResourceBuilder(ResourceBuilder.CreateEmpty().AddAttributes(Resource(settings)))
            .AddProcessor(this)
            .Build()!;
        _loop = Task.Run(LoopAsync);
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
        if (_closed)
        {
            _metrics.OpenTelemetrySpansDropped.WithLabels("shutdown").Inc();
            return;
        }
        Interlocked.Increment(ref _unsettled);
        if (_channel.Writer.TryWrite(data)) return;
        Interlocked.Decrement(ref _unsettled);
        _metrics.OpenTelemetrySpansDropped.WithLabels(_closed ? "shutdown" : "queue_full").Inc();
    }

    private async Task LoopAsync()
    {
        var batch = new Activity[_settings.MaxBatchSize];
        var reader = _channel.Reader;
        try
        {
            while (await reader.WaitToReadAsync(_stop.Token))
            {
                var count = 0;
                using (var window = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token))
                {
                    window.CancelAfter(_settings.CoalescingDelay);
                    while (count < batch.Length)
                    {
                        if (reader.TryRead(out var span)) { batch[count++] = span; continue; }
                        try { if (!await reader.WaitToReadAsync(window.Token)) break; }
                        catch (OperationCanceledException) { break; }
                    }
                }
                // the drain gave up: what was gathered stays unsettled, counted by OnShutdown
                if (_stop.IsCancellationRequested) break;
                Send(batch, count);
                Array.Clear(batch, 0, count);
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested) { }
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
        _closed = true;
        _channel.Writer.TryComplete();
        if (_loop.Wait(timeoutMilliseconds)) return base.OnShutdown(timeoutMilliseconds);
        _stop.Cancel(); // the loop sends no further batch
        base.OnShutdown(0); // the exporter's shutdown cancels its request under way
        _loop.Wait(CancelledExportGrace);
        long left;
        lock (_settle)
        {
            _abandoned = true;
            left = Interlocked.Exchange(ref _unsettled, 0);
        }
        if (left > 0)
        {
            _metrics.OpenTelemetrySpansDropped.WithLabels("shutdown").Inc(left);
            OpenTelemetryLog.DrainTimedOut(_logger, _settings.Endpoint.Host, left, timeoutMilliseconds);
        }
        return false;
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
