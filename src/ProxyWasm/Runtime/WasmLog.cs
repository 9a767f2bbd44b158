using Microsoft.Extensions.Logging;

namespace ProxyWasm.Runtime;

/// <summary>Source-generated log messages of the host, with stable event ids.</summary>
internal static partial class WasmLog
{
    [LoggerMessage(EventId = 1, EventName = "FilterLog", Message = "[{Plugin}#{ContextId}] {Message}")]
    public static partial void FilterMessage(ILogger logger, LogLevel level, string plugin, int contextId, string message);

    [LoggerMessage(EventId = 2, EventName = "VmFailed", Level = LogLevel.Error, Message = "filter '{Plugin}': VM failed and is discarded: {Reason}")]
    public static partial void VmFailed(ILogger logger, string plugin, string reason);

    [LoggerMessage(EventId = 3, EventName = "RestrictedHostCall", Level = LogLevel.Warning, Message = "module '{Module}' called unsupported host function {ImportModule}.{Name}")]
    public static partial void UnsupportedImport(ILogger logger, string module, string importModule, string name);

    [LoggerMessage(EventId = 4, EventName = "VmReplaced", Level = LogLevel.Information, Message = "filter '{Plugin}': new VM instance created in slot {Slot}")]
    public static partial void VmReplaced(ILogger logger, string plugin, int slot);

    [LoggerMessage(EventId = 5, EventName = "VmReplaceFailed", Level = LogLevel.Error, Message = "filter '{Plugin}': could not create a replacement VM: {Reason}")]
    public static partial void VmReplaceFailed(ILogger logger, string plugin, string reason);

    [LoggerMessage(EventId = 6, EventName = "VmCrashLoop", Level = LogLevel.Error, Message = "filter '{Plugin}': more than {Limit} VM restarts in a minute; not restarting (requests get the fail policy)")]
    public static partial void CrashLoop(ILogger logger, string plugin, int limit);
}
