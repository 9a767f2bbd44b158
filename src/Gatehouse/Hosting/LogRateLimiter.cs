using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Hosting;

/// <summary>
/// The one place log floods are cut: a token bucket per log event (<see cref="EventId"/>), a burst of
/// <see cref="Burst"/> lines and then <see cref="PerSecond"/> lines a second. What a bucket drops is counted, and the next
/// line that passes reports it ("N similar messages suppressed"), so a storm costs a few lines, not one per request.
/// Callers ask <see cref="ILogger.IsEnabled"/> first: an event below log_level never reaches a bucket.
/// </summary>
public sealed class LogRateLimiter
{
    public const int Burst = 20;
    public const int PerSecond = 5;

    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<int, Bucket> _buckets = new();

    public LogRateLimiter(TimeProvider time) => _time = time ?? throw new ArgumentNullException(nameof(time));

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
