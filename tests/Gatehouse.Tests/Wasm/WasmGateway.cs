using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Hosting;
using Gatehouse.Proxy;
using Gatehouse.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Tests.Wasm;

/// <summary>The complete gateway (store + Admin API + proxy) on 127.0.0.1:0 with wasm settings, SQLite or DB-less.</summary>
internal sealed class WasmGateway : IAsyncDisposable
{
    private WasmGateway(GatewayHost host, string prefix)
    {
        Host = host;
        Prefix = prefix;
        Admin = new HttpClient { BaseAddress = host.Addresses(ListenerKind.Admin)[0] };
        Proxy = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = host.Addresses(ListenerKind.Proxy)[0] };
    }

    public GatewayHost Host { get; }
    public string Prefix { get; }
    public HttpClient Admin { get; }
    public HttpClient Proxy { get; }

    public static async Task<WasmGateway> StartAsync(bool dbless, bool wasm = true, string? filtersPath = null,
        Func<GatehouseOptions, GatehouseOptions>? configure = null, Action<ILoggingBuilder>? logging = null)
    {
        var prefix = Directory.CreateTempSubdirectory("gatehouse-wasm-gw-").FullName;
        var options = new GatehouseOptions
        {
            Prefix = prefix,
            ProxyListen = [ListenAddress.Parse("127.0.0.1:0")],
            AdminListen = [ListenAddress.Parse("127.0.0.1:0")],
            Database = dbless ? DatabaseKind.Off : DatabaseKind.Sqlite,
            SqlitePath = Path.Combine(prefix, "gatehouse.db"),
            LogLevel = "error",
            ProxyAccessLog = "off",
            Wasm = wasm,
            WasmFiltersPath = filtersPath ?? WasmPaths.Examples,
        };
        options = configure?.Invoke(options) ?? options;
        var host = GatewayHost.Create(options, new GatewayHostOptions
        {
            ConfigureLogging = logging ?? (l => l.ClearProviders()),
            ShutdownTimeout = TimeSpan.FromSeconds(5),
        });
        try { await host.StartAsync(); }
        catch
        {
            await host.DisposeAsync();
            Directory.Delete(prefix, recursive: true);
            throw;
        }
        return new WasmGateway(host, prefix);
    }

    public Task<(int Status, JsonNode? Body)> SendAsync(HttpMethod method, string path, string? json = null) =>
        AdminCalls.SendAsync(Admin, method, path, json);

    public Task<(int Status, JsonNode? Body)> PostAsync(string path, string json) => SendAsync(HttpMethod.Post, path, json);
    public Task<(int Status, JsonNode? Body)> GetAsync(string path) => SendAsync(HttpMethod.Get, path);

    /// <summary>Creates a service on <paramref name="port"/> with one route (paths ["/{name}"]); returns their ids.</summary>
    public async Task<(string ServiceId, string RouteId)> ServiceAndRouteAsync(string name, int port)
    {
        var (s, service) = await PostAsync("/services", $$"""{"name":"{{name}}","url":"http://127.0.0.1:{{port}}"}""");
        if (s != 201) throw new InvalidOperationException(service?.ToJsonString());
        var (r, route) = await PostAsync($"/services/{name}/routes", $$"""{"name":"{{name}}-route","paths":["/{{name}}"]}""");
        if (r != 201) throw new InvalidOperationException(route?.ToJsonString());
        return (service!["id"]!.GetValue<string>(), route!["id"]!.GetValue<string>());
    }

    public async ValueTask DisposeAsync()
    {
        Admin.Dispose();
        Proxy.Dispose();
        await Host.StopAsync();
        await Host.DisposeAsync();
        try { Directory.Delete(Prefix, recursive: true); } catch (IOException) { }
    }
}
