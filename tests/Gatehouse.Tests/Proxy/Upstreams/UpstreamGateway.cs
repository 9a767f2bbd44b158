using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Hosting;
using Gatehouse.Proxy;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Tests.Proxy.Upstreams;

/// <summary>The complete gateway (store + Admin API + proxy) on 127.0.0.1:0, SQLite or DB-less, with a host resolver
/// that knows the names given in <paramref name="hosts"/> (as /etc/hosts would) and nothing else.</summary>
internal sealed class UpstreamGateway : IAsyncDisposable
{
    private UpstreamGateway(GatewayHost host, string prefix)
    {
        Host = host;
        Prefix = prefix;
        Admin = new HttpClient { BaseAddress = host.Addresses(ListenerKind.Admin)[0] };
        Proxy = new HttpClient(new SocketsHttpHandler { UseProxy = false, PooledConnectionLifetime = TimeSpan.Zero })
            { BaseAddress = host.Addresses(ListenerKind.Proxy)[0] };
    }

    public GatewayHost Host { get; }
    public string Prefix { get; }
    public HttpClient Admin { get; }
    public HttpClient Proxy { get; }

    public static async Task<UpstreamGateway> StartAsync(bool dbless, IReadOnlyDictionary<string, IPAddress>? hosts = null,
        bool statusListener = false)
    {
        var prefix = Directory.CreateTempSubdirectory("gatehouse-upstreams-").FullName;
        var options = new GatehouseOptions
        {
            Prefix = prefix,
            ProxyListen = [ListenAddress.Parse("127.0.0.1:0")],
            AdminListen = [ListenAddress.Parse("127.0.0.1:0")],
            StatusListen = statusListener ? [ListenAddress.Parse("127.0.0.1:0")] : [],
            Database = dbless ? DatabaseKind.Off : DatabaseKind.Sqlite,
            SqlitePath = Path.Combine(prefix, "gatehouse.db"),
            LogLevel = "error",
            ProxyAccessLog = "off",
        };
        var known = hosts ?? new Dictionary<string, IPAddress>();
        var host = GatewayHost.Create(options, new GatewayHostOptions
        {
            ConfigureLogging = l => l.ClearProviders(),
            ShutdownTimeout = TimeSpan.FromSeconds(5),
            ConfigureServices = s => s.AddSingleton<HostResolver>(name => known.TryGetValue(name, out var a)
                ? [a] : throw new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.HostNotFound)),
        });
        try { await host.StartAsync(); }
        catch
        {
            await host.DisposeAsync();
            Directory.Delete(prefix, recursive: true);
            throw;
        }
        return new UpstreamGateway(host, prefix);
    }

    public async Task<(int Status, JsonNode? Body)> SendAsync(HttpMethod method, string path, string? json = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await Admin.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    public Task<(int Status, JsonNode? Body)> PostAsync(string path, string json) => SendAsync(HttpMethod.Post, path, json);
    public Task<(int Status, JsonNode? Body)> GetAsync(string path) => SendAsync(HttpMethod.Get, path);

    /// <summary>POST that must answer 201; returns the entity.</summary>
    public async Task<JsonNode> CreateAsync(string path, string json)
    {
        var (status, body) = await PostAsync(path, json);
        if (status != 201) throw new InvalidOperationException($"POST {path}: {status} {body?.ToJsonString()}");
        return body!;
    }

    /// <summary>Sends a proxied GET and returns the status and the port of the echo upstream that answered (or 0).</summary>
    public async Task<(int Status, string Body)> ProxyGetAsync(string path)
    {
        using var response = await Proxy.GetAsync(path);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
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
