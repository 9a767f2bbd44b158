using System.Diagnostics;

namespace Gatehouse.Tests.Infrastructure;

/// <summary>
/// Waits for something the gateway does in the background (a health check, a reload, a log line, an export) by
/// polling a condition, and fails the test naming what it waited for when the bound passes first. The bound is
/// generous on purpose: a passing test returns as soon as the condition holds, and CI hosts stall for seconds.
/// </summary>
public static class Eventually
{
    public static readonly TimeSpan DefaultBound = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(20);

    public static Task TrueAsync(Func<bool> condition, string what = "the condition", TimeSpan? within = null) =>
        TrueAsync(() => Task.FromResult(condition()), what, within);

    public static async Task TrueAsync(Func<Task<bool>> condition, string what = "the condition", TimeSpan? within = null)
    {
        var bound = within ?? DefaultBound;
        var start = Stopwatch.GetTimestamp();
        while (!await condition())
        {
            if (Stopwatch.GetElapsedTime(start) > bound)
                throw new Xunit.Sdk.XunitException($"{what} did not happen within {bound.TotalSeconds:0.#} s");
            await Task.Delay(Interval);
        }
    }
}
