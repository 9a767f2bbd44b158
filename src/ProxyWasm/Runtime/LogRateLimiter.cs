using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace ProxyWasm.Runtime;

/// <summary>
/// The one place log floods are cut (the host's own failures and, in an embedding gateway, its proxy and Admin lines): a token bucket per log event (<see cref="EventId"/>), a burst of
/// <see cref="Burst"/> lines and then <see cref="PerSecond"/> lines a second. What a bucket drops is counted, and the next
/// line that passes reports it ("N similar messages suppressed"), so a storm costs a few lines, not one per request.
/// Callers ask <see cref="ILogger.IsEnabled"/> first: an event below log_level never reaches a bucket.
/// </summary>
public sealed partial class LogRateLimiter
{
    /// <summary>Lines an event may write at once before its rate applies.</summary>
    public const int Burst = 20;
    /// <summary>Lines an event may write per second once its burst is spent.</summary>
    public const int PerSecond = 5;

    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<int, Bucket> _buckets = new();

    /// <summary>A limiter on <paramref name="time"/>'s clock.</summary>
    public LogRateLimiter(TimeProvider time) => _time = time ?? throw new ArgumentNullException(nameof(time));

    /// <summary>True when <paramref name="logger"/> should write a line of <paramref name="eventId"/> at
    /// <paramref name="level"/> now: the level is enabled and the event's bucket has a token. Writes the
    /// "N similar messages suppressed" line first when the bucket dropped some since its last line.</summary>
    public bool Admit(ILogger logger, LogLevel level, EventId eventId)
    {
        ArgumentNullException.ThrowIfNull(logger);
        if (!logger.IsEnabled(level) || !TryAcquire(eventId, out var suppressed)) return false;
        if (suppressed > 0) Suppressed(logger, level, suppressed, eventId.Id);
        return true;
    }

    [LoggerMessage(EventId = 9001, Message = "{Count} similar messages suppressed (event {Event})")]
    private static partial void Suppressed(ILogger logger, LogLevel level, long count, int @event);

    /// <summary>True when a line of <paramref name="eventId"/> may be written now; <paramref name="suppressed"/> is how
    /// many were dropped since the last line that passed.</summary>
    public bool TryAcquire(EventId eventId, out long suppressed)
    {
        var bucket = _buckets.GetOrAdd(eventId.Id, static (_, now) => new Bucket(now), _time.GetTimestamp());
        return bucket.TryTake(_time.GetTimestamp(), _time.TimestampFrequency, out suppressed);
    }

    private sealed class Bucket(long now)
    {
        private readonly Lock _lock = new();
        private double _tokens = Burst;
        private long _refilledAt = now;
        private long _dropped;

        public bool TryTake(long now, long frequency, out long suppressed)
        {
            lock (_lock)
            {
                _tokens = Math.Min(Burst, _tokens + (now - _refilledAt) * (double)PerSecond / frequency);
                _refilledAt = now;
                if (_tokens < 1)
                {
                    _dropped++;
                    suppressed = 0;
                    return false;
                }
                _tokens--;
                suppressed = _dropped;
                _dropped = 0;
                return true;
            }
        }
    }
}
