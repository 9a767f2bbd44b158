using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Tests.Plugins;

/// <summary>Records what Proxy-Wasm filters log (categories <c>ProxyWasm.Filter.*</c>) so tests can tell which
/// filter callbacks ran.</summary>
internal sealed class FilterLogCapture : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _messages = new();

    public IReadOnlyList<string> Messages => [.. _messages];

    public int Count(string message) => _messages.Count(m => m == message);

    /// <summary>Waits (bounded) until <paramref name="message"/> was logged at least <paramref name="count"/> times:
    /// the log phase runs after the response reached the client.</summary>
    public async Task WaitForAsync(string message, int count)
    {
        for (var i = 0; i < 200 && Count(message) < count; i++) await Task.Delay(25);
        Assert.True(Count(message) >= count, $"'{message}' logged {Count(message)} times, expected {count}: {string.Join(" | ", Messages)}");
    }

    /// <summary>Waits (bounded) until some logged message satisfies <paramref name="match"/>.</summary>
    public async Task WaitForAsync(Func<string, bool> match)
    {
        for (var i = 0; i < 200 && !Messages.Any(match); i++) await Task.Delay(25);
        Assert.True(Messages.Any(match), "filter log: " + string.Join(" | ", Messages));
    }

    public ILogger CreateLogger(string categoryName) =>
        categoryName.StartsWith("ProxyWasm.Filter.", StringComparison.Ordinal) ? new Sink(_messages) : Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

    public void Dispose() { }

    private sealed class Sink(ConcurrentQueue<string> messages) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            messages.Enqueue(WithoutInstance(formatter(state, exception)));

        /// <summary>The host prefixes each line with the instance (<c>[phases#2] </c>); tests match the filter's text.</summary>
        private static string WithoutInstance(string message) =>
            message.StartsWith('[') && message.IndexOf("] ", StringComparison.Ordinal) is var end and > 0 ? message[(end + 2)..] : message;
    }
}
