namespace ProxyWasm.Runtime;

/// <summary>
/// Every resource limit of the host in one typed place. Defaults carry their provenance; a filter entry may
/// override <see cref="MaxMemoryBytes"/> and <see cref="CallDeadline"/> through <c>FilterPluginConfig.Limits</c>.
/// </summary>
public sealed record WasmLimits
{
    /// <summary>Per-VM linear memory cap. 64 MiB: issue #3 default (cpp-host allows 1 GiB, far too much per VM).</summary>
    public long MaxMemoryBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>
    /// CPU budget of one host→guest callback, enforced through epoch interruption: each epoch tick checks the
    /// thread's CPU time (Linux; wall clock elsewhere), with a hard wall-clock cap of 10 × the budget. 100 ms: issue #3 default.
    /// </summary>
    public TimeSpan CallDeadline { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Most of a core one request-time callback may average once it has used a quarter of its
    /// <see cref="CallDeadline"/> (25 ms): it then sleeps between epoch ticks to keep to this share, so a filter
    /// spinning to its deadline cannot take a core from other requests (it reaches the deadline after about
    /// <c>CallDeadline / share</c> of wall time; paced time does not count toward the 10 × wall-clock cap). Healthy
    /// callbacks (microseconds) are never paced. 1 turns pacing off; start-up calls and calls on threads that are not
    /// pool threads (an embedder's event loop, where a call must end soon) are never paced. 0.1: our choice (Linux;
    /// elsewhere CPU time is not measured per thread and calls are not paced).
    /// </summary>
    public double SlowCallCpuShare { get; init; } = 0.1;

    /// <summary>
    /// Deadline of each start-up call (instantiate with its start section, <c>_initialize</c>/<c>main</c>/<c>_start</c>,
    /// root context create, <c>proxy_on_vm_start</c>, <c>proxy_on_configure</c>). 5 s: our choice — language runtimes
    /// initialise heaps and tables there, and the first calls of a process also pay JIT warm-up of the host.
    /// </summary>
    public TimeSpan StartDeadline { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Largest serialized header map accepted from a guest. Matches cpp-host <c>PROXY_WASM_HOST_PAIRS_MAX_BYTES</c>.</summary>
    public int MaxPairsBytes { get; init; } = 1024 * 1024;

    /// <summary>Most pairs accepted in one serialized map. Matches cpp-host <c>PAIRS_MAX_COUNT</c>.</summary>
    public int MaxPairsCount { get; init; } = 1024;

    /// <summary>Largest <c>random_get</c> request. 64 KiB: cpp-host test <c>RandomTooLarge</c> (65 KiB fails).</summary>
    public int MaxRandomBytes { get; init; } = 64 * 1024;

    /// <summary>Largest value stored by <c>proxy_set_shared_data</c> / enqueued on a shared queue. 1 MiB: our choice, mirrors the pairs cap.</summary>
    public int MaxSharedValueBytes { get; init; } = 1024 * 1024;

    /// <summary>Default timeout of <c>proxy_http_call</c> when the guest passes 0. 60 s: ngx <c>proxy_wasm_socket_*_timeout</c> default.</summary>
    public TimeSpan DefaultHttpCallTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// CPU budget of VM starts (instantiate, <c>proxy_on_vm_start</c>, <c>proxy_on_configure</c>) per plugin, as a
    /// share of one core (token bucket holding one second's worth, charged each start's measured CPU time). Replaces
    /// the old "restarts per minute" guard (spec §2.7 "rate-limit crash loops"): a request that needs a new VM while
    /// the budget is spent waits for it — it is never failed — and a trap storm or crash loop costs at most this
    /// share. 0.25: cheap starts (well under 1 ms) are never slowed; a 100 ms start is held to 2.5 a second.
    /// </summary>
    public double VmStartCpuShare { get; init; } = 0.25;

    /// <summary>Throws when a value is out of range, so a bad override fails at configuration time.</summary>
    public void Validate()
    {
        if (MaxMemoryBytes < 64 * 1024) throw new ArgumentOutOfRangeException(nameof(MaxMemoryBytes), "must be at least one wasm page (65536 bytes)");
        if (StartDeadline <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(StartDeadline), "must be positive");
        if (CallDeadline <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(CallDeadline), "must be positive");
        if (MaxPairsBytes <= 0 || MaxPairsCount <= 0) throw new ArgumentOutOfRangeException(nameof(MaxPairsBytes), "pairs limits must be positive");
        if (MaxRandomBytes < 0 || MaxSharedValueBytes <= 0) throw new ArgumentOutOfRangeException(nameof(MaxRandomBytes), "must be positive");
        if (!(SlowCallCpuShare > 0 && SlowCallCpuShare <= 1)) throw new ArgumentOutOfRangeException(nameof(SlowCallCpuShare), "must be in (0, 1]");
        if (!(VmStartCpuShare > 0 && VmStartCpuShare <= 64)) throw new ArgumentOutOfRangeException(nameof(VmStartCpuShare), "must be a positive share of a core");
        if (DefaultHttpCallTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(DefaultHttpCallTimeout), "must be positive");
    }
}
