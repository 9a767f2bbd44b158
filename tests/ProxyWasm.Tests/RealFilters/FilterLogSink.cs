using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;

namespace ProxyWasm.Tests.RealFilters;

/// <summary>
/// Captures every host and filter log line. Filter lines are emitted by the host as
/// <c>[&lt;plugin&gt;#&lt;context id&gt;] &lt;message&gt;</c>; <see cref="Filter"/> parses that shape.
/// </summary>
internal sealed partial class FilterLogSink(LogLevel minimumLevel = LogLevel.Trace) : ILoggerProvider
{
    /// <summary>Lowest level the loggers report as enabled (what <c>proxy_get_log_level</c> derives from).</summary>
    public LogLevel MinimumLevel { get; } = minimumLevel;

    public ConcurrentQueue<(string Category, LogLevel Level, string Message)> Entries { get; } = new();

    /// <summary>Lines a filter logged through <c>proxy_log</c> / WASI stdout-stderr, in order.</summary>
    public IReadOnlyList<FilterLine> Filter(string plugin)
    {
        var lines = new List<FilterLine>();
        foreach (var (_, level, message) in Entries)
        {
            var m = LinePattern().Match(message);
            if (m.Success && m.Groups[1].Value == plugin) lines.Add(new FilterLine(int.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture), level, m.Groups[3].Value));
        }
        return lines;
    }

    /// <summary>Messages of <paramref name="plugin"/> starting with <paramref name="prefix"/>.</summary>
    public IReadOnlyList<string> Messages(string plugin, string prefix)
        => Filter(plugin).Where(l => l.Text.StartsWith(prefix, StringComparison.Ordinal)).Select(l => l.Text).ToList();

    /// <summary>True when any captured line (host or filter) contains <paramref name="text"/>.</summary>
    public bool Contains(string text, LogLevel? level = null)
        => Entries.Any(e => (level is null || e.Level == level) && e.Message.Contains(text, StringComparison.Ordinal));

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose() { }

    [GeneratedRegex(@"^\[(.+)#(\d+)\] (.*)$", RegexOptions.Singleline)]
    private static partial Regex LinePattern();

    private sealed class Logger(FilterLogSink owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= owner.MinimumLevel;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            => owner.Entries.Enqueue((category, logLevel, formatter(state, exception)));
    }
}

/// <summary>One filter log line: the context it was logged for, its level and text.</summary>
internal sealed record FilterLine(int ContextId, LogLevel Level, string Text);

/// <summary>Logger factory over one <see cref="FilterLogSink"/>.</summary>
internal sealed class FilterLogSinkFactory(FilterLogSink sink) : ILoggerFactory
{
    public void AddProvider(ILoggerProvider provider) { }

    public ILogger CreateLogger(string categoryName) => sink.CreateLogger(categoryName);

    public void Dispose() { }
}
