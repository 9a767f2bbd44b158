using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Tests.Infrastructure;

/// <summary>
/// Records every log entry that reaches a provider through the gateway's real logging setup
/// (<c>GatehouseLogging</c>: log_level and the framework category filters apply; this provider replaces the console).
/// Pass <see cref="Install"/> as <c>GatewayHostOptions.ConfigureLogging</c>.
/// </summary>
public sealed class LogCapture : ILoggerProvider
{
    private readonly ConcurrentQueue<LogEntry> _entries = new();

    public IReadOnlyList<LogEntry> Entries => [.. _entries];

    public void Install(ILoggingBuilder logging) => logging.AddProvider(this);

    public void Clear() => _entries.Clear();

    public ILogger CreateLogger(string categoryName) => new Sink(categoryName, _entries);

    public void Dispose() { }

    /// <summary>All entries as console-like lines, for assertion messages.</summary>
    public string Dump(int max = 40) => string.Join("\n", Entries.Take(max).Select(e => e.ToString()));

    private sealed class Sink(string category, ConcurrentQueue<LogEntry> entries) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            entries.Enqueue(new LogEntry(logLevel, category, eventId, formatter(state, exception), exception));
    }
}

/// <summary>One captured entry; <see cref="Exception"/> is what a console formatter would print as a stack trace.</summary>
public sealed record LogEntry(LogLevel Level, string Category, EventId EventId, string Message, Exception? Exception)
{
    public override string ToString() => $"{Level} {Category}[{EventId.Id}] {Message}{(Exception is null ? "" : " EXCEPTION " + Exception.GetType().Name)}";
}
