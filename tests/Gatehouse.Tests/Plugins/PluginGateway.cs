using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Hosting;
using Gatehouse.Proxy;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Tests.Store;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Tests.Plugins;

/// <summary>The real gateway with store (SQLite file), Admin API and proxy on 127.0.0.1:0, plus an echo upstream:
/// tests configure through the Admin API and send traffic through the proxy.</summary>
internal sealed class PluginGateway : IAsyncDisposable
{
    private readonly TempDir _dir;

    private PluginGateway(TempDir dir, GatewayHost host, EchoUpstream upstream)
    {
        _dir = dir;
        Host = host;
        Upstream = upstream;
        Admin = new HttpClient { BaseAddress = host.Addresses(ListenerKind.Admin)[0] };
        Proxy = new HttpClient(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false, UseCookies = false })
        {
            BaseAddress = host.Addresses(ListenerKind.Proxy)[0],
        };
    }

    public GatewayHost Host { get; }
    public EchoUpstream Upstream { get; }
    public HttpClient Admin { get; }
    public HttpClient Proxy { get; }
    public Uri StatusUri => Host.Addresses(ListenerKind.Status)[0];
    public string Prefix => _dir.Path;

    public static async Task<PluginGateway> StartAsync(Action<IServiceCollection>? services = null,
        Func<GatehouseOptions, GatehouseOptions>? configure = null, Action<ILoggingBuilder>? logging = null)
    {
        var dir = new TempDir();
        var options = new GatehouseOptions
        {
            Prefix = dir.Path,
            ProxyListen = [ListenAddress.Parse("127.0.0.1:0")],
            AdminListen = [ListenAddress.Parse("127.0.0.1:0")],
            StatusListen = [ListenAddress.Parse("127.0.0.1:0")],
            Database = DatabaseKind.Sqlite,
            SqlitePath = dir.File("gatehouse.db"),
            LogLevel = "error",
            ProxyAccessLog = "off",
        };
        options = configure?.Invoke(options) ?? options;
        var host = GatewayHost.Create(options, new GatewayHostOptions
        {
            IncludeStoreAndAdmin = true,
            ConfigureServices = services,
            ConfigureLogging = logging ?? (l => l.ClearProviders()),
            ShutdownTimeout = TimeSpan.FromSeconds(5),
        });
        await host.StartAsync();
        return new PluginGateway(dir, host, await EchoUpstream.StartAsync());
    }

    public Task<(int Status, JsonNode? Body)> SendAsync(HttpMethod method, string path, object? json = null) =>
        AdminCalls.SendAsync(Admin, method, path, json);

    public Task<(int Status, JsonNode? Body)> PostAsync(string path, object json) => SendAsync(HttpMethod.Post, path, json);
    public Task<(int Status, JsonNode? Body)> GetAsync(string path) => SendAsync(HttpMethod.Get, path);

    /// <summary>Creates a service on the echo upstream and a route on <paramref name="path"/>; returns their ids.</summary>
    public async Task<(string Service, string Route)> ServiceAndRouteAsync(string name, string path)
    {
        var (s1, service) = await PostAsync("/services", new { name, url = $"http://127.0.0.1:{Upstream.Port}" });
        if (s1 != 201) throw new InvalidOperationException(service?.ToJsonString());
        var (s2, route) = await PostAsync($"/services/{name}/routes", new { name = name + "-route", paths = new[] { path } });
        if (s2 != 201) throw new InvalidOperationException(route?.ToJsonString());
        return ((string)service!["id"]!, (string)route!["id"]!);
    }

    /// <summary>Posts an entity and fails the test when it is refused.</summary>
    public async Task<JsonNode> CreateAsync(string path, object json)
    {
        var (status, body) = await PostAsync(path, json);
        Assert.True(status == 201, $"{path}: {status} {body?.ToJsonString()}");
        return body!;
    }

    public async ValueTask DisposeAsync()
    {
        Admin.Dispose();
        Proxy.Dispose();
        await Host.StopAsync();
        await Host.DisposeAsync();
        await Upstream.DisposeAsync();
        _dir.Dispose();
    }
}
