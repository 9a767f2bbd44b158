using BenchmarkDotNet.Attributes;
using ProxyWasm.Runtime;

namespace ProxyWasm.Bench;

/// <summary>
/// The cost of the per-VM gate every guest call takes (<see cref="VmGate"/>, an async-capable mutex so requests sharing
/// a VM never block a thread), uncontended, against the <see cref="Lock"/> it replaced.
/// </summary>
public class VmGateBenchmarks
{
    private readonly Lock _lock = new();
    private readonly VmGate _gate = new();
    private int _value;

    [Benchmark(Baseline = true)]
    public int LockEnterExit()
    {
        lock (_lock) return ++_value;
    }

    [Benchmark]
    public int VmGateEnterExit()
    {
        if (!_gate.TryEnter()) throw new InvalidOperationException();
        try { return ++_value; }
        finally { _gate.Exit(); }
    }
}
