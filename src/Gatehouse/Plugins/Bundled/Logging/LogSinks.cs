using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Plugins.Bundled.Logging;

/// <summary>
/// Long-lived queues for the log plugins (Kong's <c>kong.tools.queue</c>): the log phase only enqueues; one
/// background consumer per sink (file path or endpoint) batches entries and writes them. Sinks outlive
/// configuration snapshots; pending entries are flushed at shutdown.
/// </summary>
public sealed class LogSinks : IAsyncDisposable, IDisposable
{
    private readonly ConcurrentDictionary<string, Sink> _sinks = new(StringComparer.Ordinal);
    private readonly ILogger<LogSinks> _logger;

    public LogSinks(ILogger<LogSinks> logger) => _logger = logger ?? throw new ArgumentNullException(nameof(logger));

    /// <summary>The sink for <paramref name="key"/>; <paramref name="write"/> receives batches of at most
    /// <paramref name="maxBatch"/> entries, waiting up to <paramref name="maxDelay"/> to fill one.</summary>
    public Sink For(string key, int maxBatch, TimeSpan maxDelay, int maxEntries, Func<IReadOnlyList<string>, CancellationToken, Task> write) =>
        _sinks.GetOrAdd(key, _ => new Sink(key, maxBatch, maxDelay, maxEntries, write, _logger));

    public async ValueTask DisposeAsync()
    {
        foreach (var sink in _sinks.Values) await sink.DisposeAsync();
    }

    /// <summary>For synchronous container disposal; the consumers run on the thread pool, so this cannot deadlock.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>One queue and its consumer.</summary>
    public sealed class Sink : IAsyncDisposable
    {
        private readonly Channel<string> _channel;
        private readonly Task _consumer;
        private readonly CancellationTokenSource _stop = new();

        internal Sink(string key, int maxBatch, TimeSpan maxDelay, int maxEntries,
            Func<IReadOnlyList<string>, CancellationToken, Task> write, ILogger logger)
        {
            _channel = Channel.CreateBounded<string>(new BoundedChannelOptions(Math.Max(1, maxEntries))
            {
                FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true,
            });
            _consumer = Task.Run(() => ConsumeAsync(key, Math.Max(1, maxBatch), maxDelay, write, logger));
        }

        /// <summary>Never blocks: a full queue drops the entry, as Kong's max_entries does.</summary>
        public bool Enqueue(string entry) => _channel.Writer.TryWrite(entry);

        private async Task ConsumeAsync(string key, int maxBatch, TimeSpan maxDelay, Func<IReadOnlyList<string>, CancellationToken, Task> write, ILogger logger)
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
                try { await write(batch, _stop.Token); }
                catch (Exception e) { logger.LogError(e, "log sink {Key}: batch of {Count} entries could not be written", key, batch.Count); }
                batch.Clear();
            }
        }

        public async ValueTask DisposeAsync()
        {
            _channel.Writer.TryComplete();
            _stop.CancelAfter(TimeSpan.FromSeconds(5));
            await _consumer;
            _stop.Dispose();
        }
    }
}
