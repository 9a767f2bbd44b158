using System.Collections.Concurrent;
using System.Data.Common;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Plugins.Bundled.RateLimiting;

/// <summary>
/// The <c>cluster</c> policy's increments between the request and the database (Kong increments in a timer after the
/// request): queued without a lock, and one writer at a time folds whatever is queued into one batch (key → delta,
/// expiry) for its store's flush. A failed flush is logged and its increments dropped, as Kong's failed timer is.
/// </summary>
internal sealed partial class ClusterIncrementQueue
{
    private readonly Func<IReadOnlyDictionary<ClusterCounterKey, ClusterIncrement>, Task> _flush;
    private readonly string _database;
    private readonly ILogger _logger;
    private readonly ConcurrentQueue<(ClusterCounterKey Key, long Expiry)> _increments = new();
    private Task _writer = Task.CompletedTask;
    private int _writing;

    /// <param name="database">"sqlite" or "postgres", for the log.</param>
    public ClusterIncrementQueue(Func<IReadOnlyDictionary<ClusterCounterKey, ClusterIncrement>, Task> flush, string database, ILogger logger)
    {
        _flush = flush ?? throw new ArgumentNullException(nameof(flush));
        _database = database;
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
    }

    /// <summary>Queues +1 and starts the writer unless it is running.</summary>
    public void Add(ClusterCounterKey key, long expiry)
    {
        _increments.Enqueue((key, expiry));
        if (Interlocked.Exchange(ref _writing, 1) == 0) _writer = Task.Run(WriteAsync);
    }

    /// <summary>Lets queued increments reach the database (on shutdown), up to <paramref name="timeout"/>.</summary>
    public void Drain(TimeSpan timeout)
    {
        try
        {
            Volatile.Read(ref _writer).Wait(timeout);
        }
        catch (AggregateException) { } // already logged by the writer, or nothing more can be done on shutdown
    }

    /// <summary>Folds everything queued into one flush, until the queue stays empty.</summary>
    private async Task WriteAsync()
    {
        while (true)
        {
            var batch = new Dictionary<ClusterCounterKey, ClusterIncrement>();
            while (_increments.TryDequeue(out var item))
                batch[item.Key] = new ClusterIncrement((batch.TryGetValue(item.Key, out var b) ? b.Delta : 0) + 1, item.Expiry);
            if (batch.Count > 0)
            {
                try
                {
                    await _flush(batch).ConfigureAwait(false);
                }
                catch (Exception e) when (e is DbException or InvalidOperationException or IOException or TimeoutException)
                {
                    LogWriteFailure(_logger, batch.Count, _database, e.Message);
                }
            }
            Volatile.Write(ref _writing, 0);
            // An increment queued after the drain either started a new writer or is ours to pick up.
            if (_increments.IsEmpty || Interlocked.Exchange(ref _writing, 1) == 1) return;
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "cluster policy: could not increment {Count} {Database} counter(s): {Reason}")]
    private static partial void LogWriteFailure(ILogger logger, int count, string database, string reason);
}

/// <summary>What one flush adds to a row, and the row's expiry (Unix seconds).</summary>
internal readonly record struct ClusterIncrement(long Delta, long Expiry);
