using ProxyWasm.Runtime;
using Xunit;

namespace ProxyWasm.Tests;

/// <summary>The per-event token bucket behind every rate-limited log line.</summary>
public sealed class LogRateLimiterTests
{
    private sealed class ManualClock : TimeProvider
    {
        public long Ticks;
        public override long GetTimestamp() => Ticks;
        public override long TimestampFrequency => 1000;
    }

    [Fact]
    public void BurstThenRefillAndTheDroppedCountIsReportedOnce()
    {
        var clock = new ManualClock();
        var limiter = new LogRateLimiter(clock);
        for (var i = 0; i < LogRateLimiter.Burst; i++)
        {
            Assert.True(limiter.TryAcquire(7, out var none));
            Assert.Equal(0, none);
        }
        for (var i = 0; i < 1000; i++) Assert.False(limiter.TryAcquire(7, out _));
        // another event has its own bucket
        Assert.True(limiter.TryAcquire(8, out _));
        clock.Ticks += 1000 / LogRateLimiter.PerSecond; // one token
        Assert.True(limiter.TryAcquire(7, out var suppressed));
        Assert.Equal(1000, suppressed);
        Assert.False(limiter.TryAcquire(7, out _));
        clock.Ticks += 60_000; // refill is capped at the burst
        for (var i = 0; i < LogRateLimiter.Burst; i++) Assert.True(limiter.TryAcquire(7, out _));
        Assert.False(limiter.TryAcquire(7, out _));
    }
}
