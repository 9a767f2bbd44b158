namespace Gatehouse.Plugins.Bundled.RateLimiting;

/// <summary>Kong's rate-limiting periods and their fixed windows (UTC; month and year are calendar windows).</summary>
internal static class RateLimitPeriods
{
    public static readonly string[] Names = ["second", "minute", "hour", "day", "month", "year"];

    /// <summary>Header spelling: X-RateLimit-Limit-Minute.</summary>
    public static string Title(string period) => char.ToUpperInvariant(period[0]) + period[1..];

    /// <summary>Start and end (Unix seconds) of the window containing <paramref name="now"/>.</summary>
    public static (long Start, long End) Window(string period, DateTimeOffset now)
    {
        var t = now.ToUnixTimeSeconds();
        long Fixed(long size) => t - t % size;
        return period switch
        {
            "second" => (t, t + 1),
            "minute" => (Fixed(60), Fixed(60) + 60),
            "hour" => (Fixed(3600), Fixed(3600) + 3600),
            "day" => (Fixed(86400), Fixed(86400) + 86400),
            "month" => Calendar(new DateTimeOffset(now.Year, now.Month, 1, 0, 0, 0, TimeSpan.Zero), m => m.AddMonths(1)),
            _ => Calendar(new DateTimeOffset(now.Year, 1, 1, 0, 0, 0, TimeSpan.Zero), y => y.AddYears(1)),
        };
    }

    private static (long, long) Calendar(DateTimeOffset start, Func<DateTimeOffset, DateTimeOffset> next) =>
        (start.ToUnixTimeSeconds(), next(start).ToUnixTimeSeconds());
}
