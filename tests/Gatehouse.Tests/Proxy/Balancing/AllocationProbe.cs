namespace Gatehouse.Tests.Proxy.Balancing;

/// <summary>
/// Bytes a warmed-up action allocates on the calling thread over one batch of calls: the least of three batches. An
/// allocation the action makes on every call shows in every batch; a one-off of the runtime under a loaded machine
/// (a method tiering up in the middle of a batch) shows in one batch at most and is not taken for the action's.
/// </summary>
internal static class AllocationProbe
{
    public static long LeastBytesPerBatch(Action action, int batch = 10_000)
    {
        for (var i = 0; i < 100; i++) action();
        var least = long.MaxValue;
        for (var run = 0; run < 3; run++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < batch; i++) action();
            least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        return least;
    }
}
