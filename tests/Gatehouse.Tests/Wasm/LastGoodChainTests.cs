using System.Collections.Concurrent;
using Gatehouse.Model;
using Gatehouse.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit;

namespace Gatehouse.Tests.Wasm;

/// <summary>Kong §5.4 "last good state wins": a snapshot whose filter config is rejected in <c>on_configure</c>
/// (write-time validation bypassed: the snapshot is published directly) keeps serving that route with its previous
/// chain; other routes take their changes; a route with no previous good chain answers 500. Real gateway, real
/// <c>add-headers</c> filter (rejects non-string header values).</summary>
public sealed class LastGoodChainTests : IAsyncLifetime
{
    private readonly string _filters = WasmPaths.CopyFilters(WasmPaths.Examples, "add-headers");
    private EchoUpstream _upstream = null!;
    private GatewayFixture _gateway = null!;
    private readonly ErrorCapture _log = new();

    public async Task InitializeAsync()
    {
        _upstream = await EchoUpstream.StartAsync();
        _gateway = await GatewayFixture.StartAsync(configure: o => o with { Wasm = true, WasmFiltersPath = _filters },
            services: s => s.AddSingleton<ILoggerProvider>(_log));
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
        Directory.Delete(_filters, true);
    }

    private static string Adds(string value) => """{"request":{"add":{"x-v":""" + "\"" + value + "\"}}}";
    private const string Rejected = """{"request":{"add":{"x-v":1}}}""";

    private static FilterChainModel Chain(RouteModel route, string config) =>
        new() { Id = Guid.NewGuid(), RouteId = route.Id, Filters = [new("add-headers", true, config)] };

    private async Task<(int Status, string? Value)> Send(string path)
    {
        using var response = await _gateway.Client.SendAsync(ProxyRequests.Get(path));
        return (int)response.StatusCode == 200 ? (200, (await response.EchoAsync()).Header("x-v")) : ((int)response.StatusCode, null);
    }

    [Fact]
    public async Task Rejected_config_keeps_the_previous_chain_until_a_good_one_arrives()
    {
        var service = TestConfig.Service(_upstream);
        var a = TestConfig.Route(service, "a", paths: ["/a"]);
        var b = TestConfig.Route(service, "b", paths: ["/b"]);
        var c = TestConfig.Route(service, "c", paths: ["/c"]);
        var routes = TestConfig.Of([service], [a, b, c]);
        _gateway.Publish(routes with { FilterChains = [Chain(a, Adds("a1")), Chain(b, Adds("b1"))] });
        Assert.Equal((200, "a1"), await Send("/a"));
        Assert.Equal((200, "b1"), await Send("/b"));

        // a's new config is rejected: a keeps a1; b takes its change; c never had a good chain: 500
        _gateway.Publish(routes with { FilterChains = [Chain(a, Rejected), Chain(b, Adds("b2")), Chain(c, Rejected)] });
        Assert.Equal((200, "a1"), await Send("/a"));
        Assert.Equal((200, "b2"), await Send("/b"));
        Assert.Equal(500, (await Send("/c")).Status);
        Assert.Contains(_log.Messages, m => m.StartsWith($"could not update wasm filter chain state: combined service({service.Id}), route({a.Id})", StringComparison.Ordinal)
            && m.EndsWith("(stale state will be used)", StringComparison.Ordinal));
        Assert.Contains(_log.Messages, m => m.StartsWith($"failed to initialize combined service({service.Id}), route({c.Id}) filter chain", StringComparison.Ordinal));

        // still rejected one snapshot later: the kept chain is carried again (its entry was not released)
        _gateway.Publish(routes with { FilterChains = [Chain(a, Rejected), Chain(b, Adds("b3"))] });
        Assert.Equal((200, "a1"), await Send("/a"));
        Assert.Equal((200, "b3"), await Send("/b"));

        _gateway.Publish(routes with { FilterChains = [Chain(a, Adds("a2"))] });
        Assert.Equal((200, "a2"), await Send("/a"));
        Assert.Equal((200, null), await Send("/b"));
    }

    /// <summary>Error-level messages of the plan contributor.</summary>
    private sealed class ErrorCapture : ILoggerProvider, ILogger
    {
        private readonly ConcurrentQueue<string> _messages = new();
        public IReadOnlyList<string> Messages => [.. _messages];
        public ILogger CreateLogger(string categoryName) =>
            categoryName.EndsWith("FilterChainPlanContributor", StringComparison.Ordinal) ? this : Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel)) _messages.Enqueue(formatter(state, exception));
        }
        public void Dispose() { }
    }
}
