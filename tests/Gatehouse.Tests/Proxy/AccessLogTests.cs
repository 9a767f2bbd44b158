using System.Text.Json;
using Gatehouse.Tests.Infrastructure;
using static Gatehouse.Tests.Infrastructure.TestConfig;

namespace Gatehouse.Tests.Proxy;

/// <summary>One JSON line per request in proxy_access_log, with Kong-like fields; nothing when off.</summary>
public sealed class AccessLogTests
{
    [Fact]
    public async Task WritesOneJsonLinePerRequest()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await GatewayFixture.StartAsync();
        var service = Service(upstream);
        var route = Route(service, "logged", paths: ["/logged"]);
        gateway.Publish(Of([service], [route]));

        using (var ok = await gateway.Client.PostAsync("/logged/a?x=1", new StringContent("12345"))) ok.EnsureSuccessStatusCode();
        using (await gateway.Client.GetAsync("/missing")) { }
        var dead = Service("127.0.0.1", EchoUpstream.ClosedPort()) with { Retries = 0 };
        gateway.Publish(Of([service, dead], [route, Route(dead, "dead", paths: ["/dead"])]));
        using (var bad = await gateway.Client.GetAsync("/dead")) Assert.Equal(System.Net.HttpStatusCode.BadGateway, bad.StatusCode);

        var lines = await WaitForLinesAsync(gateway.AccessLogPath, 3);
        using var first = JsonDocument.Parse(lines[0]);
        var e = first.RootElement;
        Assert.Equal("POST", e.GetProperty("method").GetString());
        Assert.Equal("/logged/a?x=1", e.GetProperty("uri").GetString());
        Assert.Equal(200, e.GetProperty("status").GetInt32());
        Assert.Equal("127.0.0.1", e.GetProperty("client_ip").GetString());
        Assert.False(string.IsNullOrEmpty(e.GetProperty("request_id").GetString()));
        Assert.Equal(5, e.GetProperty("request_size").GetInt64());
        Assert.True(e.GetProperty("response_size").GetInt64() > 0);
        Assert.Equal(route.Id, e.GetProperty("route_id").GetGuid());
        Assert.Equal(service.Id, e.GetProperty("service_id").GetGuid());
        Assert.Equal(200, e.GetProperty("upstream_status").GetInt32());
        var latencies = e.GetProperty("latencies");
        Assert.True(latencies.GetProperty("request").GetInt64() >= 0);
        Assert.True(latencies.GetProperty("upstream").GetInt64() >= 0);
        Assert.True(DateTimeOffset.TryParse(e.GetProperty("time").GetString(), out _));

        using var second = JsonDocument.Parse(lines[1]);
        Assert.Equal(404, second.RootElement.GetProperty("status").GetInt32());
        Assert.Equal(JsonValueKind.Null, second.RootElement.GetProperty("route_id").ValueKind);
        Assert.Equal(48, second.RootElement.GetProperty("response_size").GetInt64());

        using var third = JsonDocument.Parse(lines[2]);
        Assert.Equal(502, third.RootElement.GetProperty("status").GetInt32());
        Assert.Equal(71, third.RootElement.GetProperty("response_size").GetInt64());
    }

    [Fact]
    public async Task OffWritesNothing()
    {
        await using var gateway = await GatewayFixture.StartAsync(configure: o => o with { ProxyAccessLog = null });
        using (await gateway.Client.GetAsync("/missing")) { }
        await gateway.Host.StopAsync();
        Assert.False(File.Exists(gateway.AccessLogPath));
    }

    private static async Task<string[]> WaitForLinesAsync(string path, int count)
    {
        for (var i = 0; i < 100; i++)
        {
            if (File.Exists(path))
            {
                var lines = (await File.ReadAllLinesAsync(path)).Where(l => l.Length > 0).ToArray();
                if (lines.Length >= count) return lines;
            }
            await Task.Delay(50);
        }
        throw new TimeoutException($"access log {path} did not get {count} lines");
    }
}
