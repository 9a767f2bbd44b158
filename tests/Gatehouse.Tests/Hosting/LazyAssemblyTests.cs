using Gatehouse.Tests.Infrastructure;
using Xunit;

namespace Gatehouse.Tests.Hosting;

/// <summary>
/// Issue #16 goal 4: a gateway shaped like the G1 benchmark (DB-less, <c>wasm = off</c>, an IP-address upstream, no
/// plugin, Manager off, never scraped) does not load the assemblies only other configurations use: prometheus-net
/// (made at the first scrape or prometheus plugin), StackExchange.Redis (the first <c>redis</c>-policy request),
/// DnsClient (the first name sent to a server), the OpenTelemetry SDK (the first opentelemetry plugin) and ASP.NET
/// Core's static-files types (the first Manager request), and no file watcher (the host's appsettings reload, on files
/// the gateway does not read). Runs the real executable and reads its /proc/PID/maps;
/// the scrape is the control that the check sees an assembly once it is used.
/// </summary>
public sealed class LazyAssemblyTests
{
    private static readonly string[] NotForG1 =
        ["Prometheus.NetStandard.dll", "StackExchange.Redis.dll", "DnsClient.dll", "OpenTelemetry.dll", "Microsoft.AspNetCore.StaticFiles.dll",
         "System.IO.FileSystem.Watcher.dll"];

    private static async Task<string[]> MappedAsync(GatewayProcess gateway, IEnumerable<string> files)
    {
        var maps = await gateway.MemoryMapsAsync();
        return files.Where(f => maps.Contains("/" + f, StringComparison.Ordinal)).ToArray();
    }

    [Fact]
    public async Task A_g1_shaped_gateway_maps_none_of_the_assemblies_it_does_not_use_until_one_is_needed()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await GatewayProcess.StartDbLessAsync(GatewayProcess.OneRouteYml(upstream.Port), admin: true);
        using var client = new HttpClient();
        for (var i = 0; i < 20; i++)
            Assert.Equal(System.Net.HttpStatusCode.OK, (await client.GetAsync(new Uri(gateway.ProxyUri, "/x"))).StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.OK, (await client.GetAsync(new Uri(gateway.AdminUri!, "/status"))).StatusCode);
        Assert.Empty(await MappedAsync(gateway, NotForG1));

        var scrape = await client.GetAsync(new Uri(gateway.AdminUri!, "/metrics"));
        Assert.Equal(System.Net.HttpStatusCode.OK, scrape.StatusCode);
        Assert.Contains("kong_nginx_connections_total", await scrape.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(["Prometheus.NetStandard.dll"], await MappedAsync(gateway, NotForG1));
    }
}
