using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ProxyWasm.Http;

namespace ProxyWasm.Runtime;

/// <summary>Process-wide settings of a <see cref="WasmHost"/>.</summary>
public sealed record WasmHostOptions
{
    /// <summary>Filter logs go to category <c>ProxyWasm.Filter.&lt;plugin name&gt;</c>; host events to <c>ProxyWasm.Host</c>.</summary>
    public ILoggerFactory LoggerFactory { get; init; } = NullLoggerFactory.Instance;

    /// <summary>Clock for timers (<c>proxy_on_tick</c>), HTTP-call timeouts and <c>proxy_get_current_time_nanoseconds</c>.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Sends <c>proxy_http_call</c> callouts; null ⇒ every call answers BAD_ARGUMENT.</summary>
    public IHttpCallDispatcher? HttpCallDispatcher { get; init; }

    /// <summary>Directory for compiled-code cache files (keyed by module SHA-256 + Wasmtime version); null disables it.</summary>
    public string? CompiledCacheDirectory { get; init; }

    /// <summary>
    /// Epoch tick period: the granularity of the per-callback CPU deadline. 10 ms: a 100 ms budget then stops a
    /// loop after 100–110 ms of CPU; the ticker costs one timer callback per period for the whole process, and a
    /// callback shorter than one tick never enters the deadline check.
    /// </summary>
    public TimeSpan EpochInterval { get; init; } = TimeSpan.FromMilliseconds(10);

    /// <summary>
    /// Epoch tick period once no guest call has started for a second: an idle host wakes 10 times a second instead of
    /// 100 (each idle gateway cost ~0.5 % of a core at 100 Hz). A call that starts while the ticker is idle gets its
    /// first deadline check up to this much later, then ticks return to <see cref="EpochInterval"/>.
    /// </summary>
    public TimeSpan IdleEpochInterval { get; init; } = TimeSpan.FromMilliseconds(100);
}
