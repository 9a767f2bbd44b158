using Microsoft.Extensions.Logging;

namespace Gatehouse.Config;

/// <summary>Kong's log_level names (nginx severities) and the .NET level each maps to.</summary>
public static class GatehouseLogLevels
{
    public static readonly IReadOnlyList<string> Names = ["debug", "info", "notice", "warn", "error", "crit", "alert", "emerg"];

    public static bool IsValid(string name) => Names.Contains(name);

    /// <summary>notice has no .NET equivalent; it maps to Information (info is also Information).</summary>
    public static LogLevel ToLogLevel(string name) => name switch
    {
        "debug" => LogLevel.Debug,
        "info" or "notice" => LogLevel.Information,
        "warn" => LogLevel.Warning,
        "error" => LogLevel.Error,
        _ => LogLevel.Critical,
    };
}
