using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using CsCheck;
using Xunit.Abstractions;

namespace Gatehouse.Tests.Reliability;

/// <summary>
/// Runs one fuzz target: CsCheck draws inputs for a fixed time (a few seconds by default, <c>GATEHOUSE_FUZZ_SECONDS</c>
/// when set) and every input is held to the properties every target shares: no exception escapes the property, no
/// input runs longer than the per-input time bound, and no input allocates more than its memory budget. Failures
/// do not stop the run (a long run should count them all); they are grouped by signature, the shortest input kept
/// for each, and the test fails at the end listing them. The summary line (target, seconds, inputs, failures) goes
/// to the test output and, when <c>GATEHOUSE_FUZZ_REPORT</c> names a file, is appended there.
/// </summary>
public sealed class FuzzRun<T>
{
    private const int MaxPrinted = 1500;
    private readonly string _target;
    private readonly Gen<T> _gen;
    private readonly Func<T, string> _print;
    private readonly ITestOutputHelper? _output;
    private readonly ConcurrentDictionary<string, Failure> _failures = new();
    private long _inputs;
    private T? _current;
    private long _currentStarted;

    public FuzzRun(string target, Gen<T> gen, Func<T, string> print, ITestOutputHelper? output)
    {
        _target = target;
        _gen = gen;
        _print = print;
        _output = output;
    }

    /// <summary>Wall time a single input may take; generous so a loaded CI box never trips it.</summary>
    public TimeSpan PerInputBound { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Bytes one input may allocate (on the fuzzing thread).</summary>
    public Func<T, long> MemoryBudget { get; init; } = _ => 64L << 20;

    public static int Seconds(int shortForm = 3)
    {
        var env = Environment.GetEnvironmentVariable("GATEHOUSE_FUZZ_SECONDS");
        return int.TryParse(env, NumberStyles.None, CultureInfo.InvariantCulture, out var s) && s > 0 ? s : shortForm;
    }

    /// <summary>Runs <paramref name="property"/> for <see cref="Seconds"/> and fails the test with every failure found.</summary>
    public void Run(Action<T> property, int shortFormSeconds = 3)
    {
        var seconds = Seconds(shortFormSeconds);
        var clock = Stopwatch.StartNew();
        Exception? crashed = null;
        var worker = new Thread(() =>
        {
            try { _gen.Sample(input => Once(property, input), iter: long.MaxValue, time: seconds, threads: 1); }
            catch (Exception e) { crashed = e; }
        }, 16 << 20) { IsBackground = true, Name = "fuzz " + _target };
        worker.Start();
        // A hung input never returns: stop waiting after the run plus the per-input bound and report it.
        while (!worker.Join(TimeSpan.FromMilliseconds(250)))
        {
            var started = Interlocked.Read(ref _currentStarted);
            if (started != 0 && Stopwatch.GetElapsedTime(started) > PerInputBound * 4)
            {
                Record("hang: input still running after " + (PerInputBound * 4).TotalSeconds + " s", _current!);
                break;
            }
        }
        var summary = string.Create(CultureInfo.InvariantCulture,
            $"fuzz {_target}: {clock.Elapsed.TotalSeconds:F0} s, {Interlocked.Read(ref _inputs)} inputs, {_failures.Count} distinct failures ({_failures.Values.Sum(f => f.Count)} inputs failed)");
        Report(summary);
        foreach (var (signature, f) in _failures)
            Report($"  [{f.Count}x] {signature}\n    shortest input: {f.Input}" + (f.Detail is null ? "" : "\n    first seen as: " + f.Detail));
        if (crashed is not null) throw new InvalidOperationException("fuzz run itself failed", crashed);
        Assert.True(_failures.IsEmpty, summary + "\n" + string.Join("\n", _failures.Select(kv => $"[{kv.Value.Count}x] {kv.Key}\n  shortest input: {kv.Value.Input}")));
    }

    private void Once(Action<T> property, T input)
    {
        Interlocked.Increment(ref _inputs);
        _current = input;
        var started = Stopwatch.GetTimestamp();
        Interlocked.Exchange(ref _currentStarted, started);
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        try
        {
            property(input);
        }
        catch (Exception e)
        {
            Record(Signature(e), input, e is PropertyFailure p ? p.Detail : e.ToString());
        }
        finally
        {
            Interlocked.Exchange(ref _currentStarted, 0);
        }
        var elapsed = Stopwatch.GetElapsedTime(started);
        if (elapsed > PerInputBound) Record($"slow: one input took more than {PerInputBound.TotalSeconds} s", input);
        var used = GC.GetAllocatedBytesForCurrentThread() - allocated;
        var budget = MemoryBudget(input);
        if (used > budget) Record("memory: one input allocated more than its budget", input, $"{used >> 20} MiB allocated, budget {budget >> 20} MiB");
    }

    private void Record(string signature, T input, string? detail = null)
    {
        string printed;
        try { printed = _print(input); }
        catch (Exception e) { printed = "(unprintable: " + e.GetType().Name + ")"; }
        if (printed.Length > MaxPrinted) printed = printed[..MaxPrinted] + $"… ({printed.Length} chars)";
        if (detail is { Length: > 3000 }) detail = detail[..3000];
        _failures.AddOrUpdate(signature, _ => new Failure(1, printed, detail),
            (_, f) => printed.Length < f.Input.Length ? new Failure(f.Count + 1, printed, detail ?? f.Detail) : f with { Count = f.Count + 1 });
    }

    /// <summary>Exception type, message shape and the first frame in Gatehouse or ProxyWasm code.</summary>
    private static string Signature(Exception e)
    {
        var frame = new StackTrace(e, false).GetFrames()
            .Select(f => f.GetMethod())
            .FirstOrDefault(m => m?.DeclaringType?.Namespace is { } ns && (ns.StartsWith("Gatehouse", StringComparison.Ordinal) || ns.StartsWith("ProxyWasm", StringComparison.Ordinal)));
        var where = frame is null ? "" : $" at {frame.DeclaringType!.FullName}.{frame.Name}";
        // the message's fixed part only: what follows a colon is usually the input's own bytes
        var message = e is PropertyFailure ? e.Message : e.Message.Split('\n', ':')[0];
        if (message.Length > 60) message = message[..60];
        return $"{e.GetType().Name}: {message}{where}";
    }

    /// <summary>Writes a line to the test output and to <c>GATEHOUSE_FUZZ_REPORT</c> when set (e.g. what a target's inputs exercised).</summary>
    public void Report(string line)
    {
        _output?.WriteLine(line);
        if (Environment.GetEnvironmentVariable("GATEHOUSE_FUZZ_REPORT") is { Length: > 0 } file)
            File.AppendAllText(file, line + "\n");
    }

    private sealed record Failure(int Count, string Input, string? Detail);
}

/// <summary>A property that does not hold; its message is the fixed signature failures are grouped by.</summary>
public sealed class PropertyFailure(string property, string? detail = null) : Exception(property)
{
    /// <summary>What varies between inputs (kept out of the signature).</summary>
    public string? Detail { get; } = detail;
}
