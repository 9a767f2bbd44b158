using Gatehouse.Plugins.Bundled.Logging;
using Gatehouse.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Tests.Plugins;

/// <summary>A log plugin's queue that no configuration uses any more (its config changed, the plugin was deleted)
/// is closed once it has been unused for <see cref="LogSinks.RetireAfter"/>, after writing what it holds; before,
/// every change left one more queue, consumer and open file or connection behind until shutdown.</summary>
public sealed class LogSinkRetirementTests : IAsyncLifetime
{
    private readonly ManualTime _time = new(DateTimeOffset.UnixEpoch.AddYears(56));
    private PluginGateway _gw = null!;

    public async Task InitializeAsync()
    {
        _gw = await PluginGateway.StartAsync(s => s.AddSingleton<TimeProvider>(_time));
        await _gw.ServiceAndRouteAsync("svc", "/api");
    }

    public async Task DisposeAsync() => await _gw.DisposeAsync();

    private LogSinks Sinks => _gw.Host.Services.GetRequiredService<LogSinks>();

    private async Task LoggedAsync(string path, int lines)
    {
        (await _gw.Proxy.GetAsync("/api/x")).Dispose();
        await Eventually.TrueAsync(() => File.Exists(path) && File.ReadAllLines(path).Length == lines);
    }

    [Fact]
    public async Task A_queue_unused_for_the_retire_time_is_closed_and_the_one_in_use_stays()
    {
        var first = Path.Combine(_gw.Prefix, "first.log");
        var second = Path.Combine(_gw.Prefix, "second.log");
        var plugin = await _gw.CreateAsync("/routes/svc-route/plugins", new { name = "file-log", config = new { path = first } });
        await LoggedAsync(first, 1);
        Assert.Equal(1, Sinks.Count);

        Assert.Equal(200, (await _gw.SendAsync(HttpMethod.Patch, $"/plugins/{plugin["id"]}", new { config = new { path = second } })).Status);
        await LoggedAsync(second, 1);
        Assert.Equal(2, Sinks.Count); // the first may still take entries from requests on the older snapshot

        // a change before the retire time closes nothing
        Assert.Equal(200, (await _gw.SendAsync(HttpMethod.Patch, $"/plugins/{plugin["id"]}", new { tags = new[] { "a" } })).Status);
        await LoggedAsync(second, 2);
        Assert.Equal(2, Sinks.Count);

        _time.Advance(LogSinks.RetireAfter + TimeSpan.FromSeconds(1));
        Assert.Equal(200, (await _gw.SendAsync(HttpMethod.Patch, $"/plugins/{plugin["id"]}", new { tags = new[] { "b" } })).Status);
        await LoggedAsync(second, 3);
        Assert.Equal(1, Sinks.Count);
        Assert.Single(File.ReadAllLines(first));

        // deleting the plugin retires its queue the same way
        Assert.Equal(204, (await _gw.SendAsync(HttpMethod.Delete, $"/plugins/{plugin["id"]}")).Status);
        _time.Advance(LogSinks.RetireAfter + TimeSpan.FromSeconds(1));
        await _gw.CreateAsync("/services", new { name = "other", url = "http://127.0.0.1:9" });
        await Eventually.TrueAsync(() => Sinks.Count == 0);
    }
}
