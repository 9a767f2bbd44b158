using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Plugins.Bundled.Logging;

/// <summary>
/// Long-lived queues for the log plugins (Kong's <c>kong.tools.queue</c>): the log phase only enqueues; one
/// background consumer per sink (file path or endpoint) batches entries and writes them. Sinks outlive
/// configuration snapshots; pending entries are flushed at shutdown. A sink that no configuration has used for
/// <see cref="RetireAfter"/> (its plugin was changed or deleted) is closed at the next configuration build, after
/// writing what it holds, so configuration churn does not pile up queues, consumers and connections.
/// </summary>
public sealed partial class LogSinks : IAsyncDisposable, IDisposable
{
    /// <summary>How long a sink no longer in the configuration stays open: requests that started on an older
    /// snapshot still log into it until they end.</summary>
    public static readonly TimeSpan RetireAfter = TimeSpan.FromMinutes(10);

    private readonly ConcurrentDictionary<string, Sink> _sinks = new(StringComparer.Ordinal);
    private readonly ILogger<LogSinks> _logger;
    private readonly TimeProvider _time;
    private long _generation;

    public LogSinks(ILogger<LogSinks> logger, TimeProvider time)
    {
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        _time = time ?? throw new ArgumentNullException(nameof(time));
    }

    /// <summary>The open sinks (for tests and diagnostics).</summary>
    public int Count => _sinks.Count;

    /// <summary>A configuration build starts: the sinks it asks for (<see cref="For"/>) are in use again.</summary>
    public long BeginGeneration() => Interlocked.Increment(ref _generation);

    /// <summary>A configuration build ended: a sink it did not ask for is marked unused (from now), and one unused for
    /// <see cref="RetireAfter"/> is removed and closed in the background after writing what it holds.</summary>
    public void EndGeneration(long generation)
    {
        var now = _time.GetUtcNow();
        foreach (var (key, sink) in _sinks)
        {
            if (Volatile.Read(ref sink.Generation) >= generation)
            {
                sink.UnusedSince = null;
                continue;
            }
            sink.UnusedSince ??= now;
            if (now - sink.UnusedSince < RetireAfter || !_sinks.TryRemove(KeyValuePair.Create(key, sink))) continue;
            LogRetired(_logger, key);
            _ = sink.DisposeAsync().AsTask().ContinueWith(t => _logger.LogError(t.Exception, "log sink {Key}: closing failed", key),
                CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        }
    }

    /// <summary>The sink for <paramref name="key"/>; the writer (made by <paramref name="writer"/> when the sink is
    /// created, disposed with it) receives batches of at most <paramref name="maxBatch"/> entries, waiting up to
    /// <paramref name="maxDelay"/> to fill one. A failed batch is logged and dropped.</summary>
    /// <param name="retry">Kong's queue retries for a failed batch; null: a failed batch is dropped at once.</param>
    public Sink For(string key, int maxBatch, TimeSpan maxDelay, int maxEntries, Func<ILogWriter> writer, LogRetry? retry = null)
    {
        var sink = _sinks.GetOrAdd(key, _ => new Sink(key, maxBatch, maxDelay, maxEntries, writer(), retry, _logger));
        Volatile.Write(ref sink.Generation, Volatile.Read(ref _generation));
        return sink;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var sink in _sinks.Values) await sink.DisposeAsync();
    }

    /// <summary>For synchronous container disposal; the consumers run on the thread pool, so this cannot deadlock.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    [LoggerMessage(Level = LogLevel.Information, Message = "log sink {Key}: closed, no configuration has used it for 10 minutes")]
    private static partial void LogRetired(ILogger logger, string key);

    [LoggerMessage(Level = LogLevel.Error, Message = "log sink {Key}: batch of {Count} entries could not be written: {Reason}")]
    private static partial void LogFailure(ILogger logger, string key, int count, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "log sink {Key}: handler could not process entries: {Reason}")]
    private static partial void LogAttemptFailure(ILogger logger, string key, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "log sink {Key}: could not send entries due to max_retry_time exceeded. {Count} queue entries were lost")]
    private static partial void LogRetriesExhausted(ILogger logger, string key, int count);

    /// <summary>One queue and its consumer.</summary>
    public sealed class Sink : IAsyncDisposable
    {
        private readonly Channel<string> _channel;
        private readonly Task _consumer;
        private readonly CancellationTokenSource _stop = new();

        private readonly ILogWriter _writer;
        private readonly LogRetry? _retry;

        /// <summary>The last configuration build that asked for this sink; when it stopped being asked for.</summary>
        internal long Generation;
        internal DateTimeOffset? UnusedSince;

        internal Sink(string key, int maxBatch, TimeSpan maxDelay, int maxEntries, ILogWriter writer, LogRetry? retry, ILogger logger)
        {
            _writer = writer;
            _retry = retry;
            _channel = Channel.CreateBounded<string>(new BoundedChannelOptions(Math.Max(1, maxEntries))
            {
                FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true,
            });
            _consumer = Task.Run(() => ConsumeAsync(key, Math.Max(1, maxBatch), maxDelay, logger));
        }

        /// <summary>Never blocks: a full queue drops the entry, as Kong's max_entries does.</summary>
        public bool Enqueue(string entry) => _channel.Writer.TryWrite(entry);

        private async Task ConsumeAsync(string key, int maxBatch, TimeSpan maxDelay, ILogger logger)
        {
            var reader = _channel.Reader;
            var batch = new List<string>(maxBatch);
            while (await reader.WaitToReadAsync(CancellationToken.None))
            {
                var deadline = DateTime.UtcNow + maxDelay;
                while (batch.Count < maxBatch)
                {
                    if (reader.TryRead(out var item)) { batch.Add(item); continue; }
                    var left = deadline - DateTime.UtcNow;
                    if (left <= TimeSpan.Zero || reader.Completion.IsCompleted) break;
                    using var wait = new CancellationTokenSource(left);
                    try { if (!await reader.WaitToReadAsync(wait.Token)) break; }
                    catch (OperationCanceledException) { break; }
                }
                if (_retry is { } retry) await WriteRetryingAsync(key, batch, retry, logger);
                else
                {
                    try { await _writer.WriteAsync(batch, _stop.Token); }
                    catch (LogWriteException e) { LogFailure(logger, key, batch.Count, e.Message); }
                    catch (Exception e) { logger.LogError(e, "log sink {Key}: batch of {Count} entries could not be written", key, batch.Count); }
                }
                batch.Clear();
            }
        }

        /// <summary>Kong's queue: each failure is a warning; the batch is tried again after initial_retry_delay,
        /// doubled each time up to max_retry_delay, until max_retry_time has passed since the first attempt.</summary>
        private async Task WriteRetryingAsync(string key, List<string> batch, LogRetry retry, ILogger logger)
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    await _writer.WriteAsync(batch, _stop.Token);
                    return;
                }
                catch (Exception e) when (e is not OperationCanceledException || !_stop.IsCancellationRequested)
                {
                    LogAttemptFailure(logger, key, e is LogWriteException ? e.Message : e.ToString());
                }
                catch (OperationCanceledException)
                {
                    LogRetriesExhausted(logger, key, batch.Count); // shutting down
                    return;
                }
                if (System.Diagnostics.Stopwatch.GetElapsedTime(started) > retry.MaxRetryTime)
                {
                    LogRetriesExhausted(logger, key, batch.Count);
                    return;
                }
                var delay = Math.Min(retry.MaxRetryDelay.TotalSeconds, Math.Pow(2, Math.Min(attempt, 62)) * retry.InitialRetryDelay.TotalSeconds);
                try { await Task.Delay(TimeSpan.FromSeconds(delay), _stop.Token); }
                catch (OperationCanceledException)
                {
                    LogRetriesExhausted(logger, key, batch.Count);
                    return;
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            _channel.Writer.TryComplete();
            _stop.CancelAfter(TimeSpan.FromSeconds(5));
            await _consumer;
            await _writer.DisposeAsync();
            _stop.Dispose();
        }
    }
}

/// <summary>Where a log sink's batches go (a file, an HTTP endpoint); called by one consumer at a time.</summary>
public interface ILogWriter : IAsyncDisposable
{
    /// <summary>Writes one batch; an exception is logged by the sink and the batch dropped.</summary>
    Task WriteAsync(IReadOnlyList<string> batch, CancellationToken cancel);
}

/// <summary>An expected write failure (the log server answered an error, the file cannot be opened): logged with its
/// message, without a stack trace.</summary>
public sealed class LogWriteException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Kong's queue retry settings (<c>queue.max_retry_time</c>, <c>initial_retry_delay</c>,
/// <c>max_retry_delay</c>); a negative <see cref="MaxRetryTime"/> means no retry.</summary>
public sealed record LogRetry(TimeSpan MaxRetryTime, TimeSpan InitialRetryDelay, TimeSpan MaxRetryDelay);
