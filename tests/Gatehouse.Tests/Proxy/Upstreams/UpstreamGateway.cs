using System.Net;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Hosting;
using Gatehouse.Proxy;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Tests.Proxy.Balancing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Tests.Proxy.Upstreams;

/// <summary>The complete gateway (store + Admin API + proxy) on 127.0.0.1:0, SQLite or DB-less. Target names resolve
/// through its DNS cache: first a hosts file (<c>dns_hostsfile</c>) holding the names given in <c>hosts</c>, then
/// <see cref="Dns"/>, a real DNS server on loopback (<c>dns_resolver</c>) that knows only the names a test gives it.</summary>
internal sealed class UpstreamGateway : IAsyncDisposable
{
    private UpstreamGateway(GatewayHost host, string prefix, TinyDnsServer dns)
    {
        Dns = dns;
        Host = host;
        Prefix = prefix;
        Admin = new HttpClient { BaseAddress = host.Addresses(ListenerKind.Admin)[0] };
        Proxy = new HttpClient(new SocketsHttpHandler { UseProxy = false, PooledConnectionLifetime = TimeSpan.Zero })
            { BaseAddress = host.Addresses(ListenerKind.Proxy)[0] };
    }

    public GatewayHost Host { get; }
    /// <summary>The gateway's name server.</summary>
    public TinyDnsServer Dns { get; }
    public string Prefix { get; }
    public HttpClient Admin { get; }
    public HttpClient Proxy { get; }

    public static async Task<UpstreamGateway> StartAsync(bool dbless, IReadOnlyDictionary<string, IPAddress>? hosts = null,
        bool statusListener = false, Func<GatehouseOptions, GatehouseOptions>? configure = null)
    {
        var prefix = Directory.CreateTempSubdirectory("gatehouse-upstreams-").FullName;
        var hostsFile = Path.Combine(prefix, "hosts");
        File.WriteAllLines(hostsFile, (hosts ?? new Dictionary<string, IPAddress>()).Select(h => $"{h.Value} {h.Key}"));
        var dns = new TinyDnsServer();
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
            Dns = new DnsOptions { Resolvers = [dns.EndPoint], HostsFile = hostsFile },
        };
        if (configure is not null) options = configure(options);
        var host = GatewayHost.Create(options, new GatewayHostOptions
        {
            ConfigureLogging = l => l.ClearProviders(),
            ShutdownTimeout = TimeSpan.FromSeconds(5),
        });
        try { await host.StartAsync(); }
        catch
        {
            await host.DisposeAsync();
            dns.Dispose();
            Directory.Delete(prefix, recursive: true);
            throw;
        }
        return new UpstreamGateway(host, prefix, dns);
    }

    public Task<(int Status, JsonNode? Body)> SendAsync(HttpMethod method, string path, string? json = null) =>
        AdminCalls.SendAsync(Admin, method, path, json);

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
        Dns.Dispose();
        try { Directory.Delete(Prefix, recursive: true); } catch (IOException) { }
    }
}
