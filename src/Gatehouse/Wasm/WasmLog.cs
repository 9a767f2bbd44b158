using Microsoft.Extensions.Logging;

namespace Gatehouse.Wasm;

/// <summary>Log messages of the wasm integration (source-generated).</summary>
internal static partial class WasmLog
{
    [LoggerMessage(Level = LogLevel.Debug, Message = "released {Count} filter entries no longer used by the configuration")]
    public static partial void PluginsRetired(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "failed to initialize {Label} filter chain: {Error}")]
    public static partial void ChainFailed(ILogger logger, string label, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "could not update wasm filter chain state: {Label}: {Error} (stale state will be used)")]
    public static partial void ChainStale(ILogger logger, string label, string error);

    public const int FilterFailedId = 2004;

    [LoggerMessage(EventId = FilterFailedId, Level = LogLevel.Error, Message = "filter {Filter} failed in {Step}: {Error}")]
    private static partial void LogFilterFailed(ILogger logger, string filter, string step, string? error);

    /// <summary>A filter failing its request (trap, limit, bad answer). Any client can trigger a trap at request rate,
    /// so these lines go through the <see cref="ProxyWasm.Runtime.LogRateLimiter"/> as the proxy's own failures do.</summary>
    public static void FilterFailed(ILogger logger, ProxyWasm.Runtime.LogRateLimiter limiter, string filter, string step, string? error)
    {
        if (limiter.Admit(logger, LogLevel.Error, FilterFailedId)) LogFilterFailed(logger, filter, step, error);
    }
}
