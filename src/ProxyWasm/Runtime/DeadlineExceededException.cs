namespace ProxyWasm.Runtime;

/// <summary>Thrown from the epoch-deadline callback to stop a guest callback that used up its CPU budget.</summary>
internal sealed class DeadlineExceededException(TimeSpan deadline, long cpuNanoseconds)
    : Exception($"deadline exceeded: guest used {cpuNanoseconds / 1_000_000} ms of CPU, limit {deadline.TotalMilliseconds:0} ms (epoch interrupt)");
