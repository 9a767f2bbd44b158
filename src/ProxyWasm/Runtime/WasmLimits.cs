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
    /// Crash-loop guard: at most this many VM re-creations per plugin per minute (spec §2.7 "rate-limit crash
    /// loops"); beyond it failed slots stay failed (requests get the fail policy) until the minute has passed.
    /// 60: one per second sustained — far above a healthy filter, low enough to stop a hot trap loop.
    /// </summary>
    public int MaxVmRestartsPerMinute { get; init; } = 60;

    /// <summary>Throws when a value is out of range, so a bad override fails at configuration time.</summary>
    public void Validate()
    {
        if (MaxMemoryBytes < 64 * 1024) throw new ArgumentOutOfRangeException(nameof(MaxMemoryBytes), "must be at least one wasm page (65536 bytes)");
        if (StartDeadline <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(StartDeadline), "must be positive");
        if (CallDeadline <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(CallDeadline), "must be positive");
        if (MaxPairsBytes <= 0 || MaxPairsCount <= 0) throw new ArgumentOutOfRangeException(nameof(MaxPairsBytes), "pairs limits must be positive");
        if (MaxRandomBytes < 0 || MaxSharedValueBytes <= 0) throw new ArgumentOutOfRangeException(nameof(MaxRandomBytes), "must be positive");
        if (MaxVmRestartsPerMinute < 0) throw new ArgumentOutOfRangeException(nameof(MaxVmRestartsPerMinute), "must not be negative");
        if (DefaultHttpCallTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(DefaultHttpCallTimeout), "must be positive");
    }
}
