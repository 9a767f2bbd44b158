using Microsoft.Extensions.Logging;

namespace ProxyWasm.Runtime;

/// <summary>Source-generated log messages of the host, with stable event ids.</summary>
internal static partial class WasmLog
{
    [LoggerMessage(EventId = 1, EventName = "FilterLog", Message = "[{Plugin}#{ContextId}] {Message}")]
    public static partial void FilterMessage(ILogger logger, LogLevel level, string plugin, int contextId, string message);

    public const int VmFailedId = 2;

    [LoggerMessage(EventId = VmFailedId, EventName = "VmFailed", Level = LogLevel.Error, Message = "filter '{Plugin}': VM failed and is discarded: {Reason}")]
    public static partial void VmFailed(ILogger logger, string plugin, string reason);

    [LoggerMessage(EventId = 3, EventName = "RestrictedHostCall", Level = LogLevel.Warning, Message = "module '{Module}' called unsupported host function {ImportModule}.{Name}")]
    public static partial void UnsupportedImport(ILogger logger, string module, string importModule, string name);

    [LoggerMessage(EventId = 4, EventName = "VmStarted", Level = LogLevel.Debug, Message = "filter '{Plugin}': new VM instance started from the compiled module")]
    public static partial void VmStarted(ILogger logger, string plugin);

    [LoggerMessage(EventId = 5, EventName = "VmReplaceFailed", Level = LogLevel.Error, Message = "filter '{Plugin}': could not create a replacement VM: {Reason}")]
    public static partial void VmReplaceFailed(ILogger logger, string plugin, string reason);

    [LoggerMessage(EventId = 6, EventName = "VmStartsPaced", Level = LogLevel.Warning, Message = "filter '{Plugin}': VM starts used their CPU budget; requests needing a new VM wait (first wait {WaitMs:0} ms)")]
    public static partial void VmStartsPaced(ILogger logger, string plugin, double waitMs);

    [LoggerMessage(EventId = 7, EventName = "SlowCallsSeen", Level = LogLevel.Warning, Message = "filter '{Plugin}': a callback used more than 2 ms of CPU; its callbacks are paced and kept off event-loop threads from now on")]
    public static partial void SlowCallsSeen(ILogger logger, string plugin);

    [LoggerMessage(EventId = 8, EventName = "VmRetired", Level = LogLevel.Debug, Message = "filter '{Plugin}': {Count} idle VM(s) above the pool size shut down ({Live} live)")]
    public static partial void VmRetired(ILogger logger, string plugin, int count, int live);
}
