using System.Net;
using System.Text.Json.Nodes;

namespace Gatehouse.Tests.Plugins;

/// <summary>Kong's scope precedence: the same plugin on global, service, route and consumer scopes — the most
/// specific instance runs, consumer scopes resolved after key-auth identified the consumer.</summary>
public sealed class PluginPrecedenceTests : IAsyncLifetime
{
    private PluginGateway _gw = null!;

    public async Task InitializeAsync()
    {
        _gw = await PluginGateway.StartAsync();
        await _gw.ServiceAndRouteAsync("svc", "/api");
        await _gw.CreateAsync("/consumers", new { username = "alice" });
        await _gw.CreateAsync("/consumers/alice/key-auth", new { key = "alice-key" });
        await _gw.CreateAsync("/consumers", new { username = "bob" });
        await _gw.CreateAsync("/consumers/bob/key-auth", new { key = "bob-key" });
        await _gw.CreateAsync("/plugins", new { name = "key-auth" });
    }

    public async Task DisposeAsync() => await _gw.DisposeAsync();

    private Task<JsonNode> Terminate(string path, string message, object? extra = null) =>
        _gw.CreateAsync(path, extra is null
            ? new { name = "request-termination", config = new { status_code = 403, message } }
            : (object)new { name = "request-termination", config = new { status_code = 403, message }, route = extra });

    private async Task<string?> MessageFor(string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api");
        request.Headers.Add("apikey", key);
        using var response = await _gw.Proxy.SendAsync(request);
        if (response.StatusCode == HttpStatusCode.OK) return "upstream";
        return (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["message"];
    }

    [Fact]
    public async Task Most_specific_scope_wins()
    {
        Assert.Equal("upstream", await MessageFor("alice-key"));
        var global = await Terminate("/plugins", "global");
        Assert.Equal("global", await MessageFor("alice-key"));
        var service = await Terminate("/services/svc/plugins", "service");
        Assert.Equal("service", await MessageFor("alice-key"));
        var route = await Terminate("/routes/svc-route/plugins", "route");
        Assert.Equal("route", await MessageFor("alice-key"));
        var consumer = await Terminate("/consumers/alice/plugins", "consumer");
        Assert.Equal("consumer", await MessageFor("alice-key"));
        Assert.Equal("route", await MessageFor("bob-key")); // bob has no consumer-scoped instance
        var routeConsumer = await Terminate("/consumers/alice/plugins", "route+consumer", new { id = (string)route["route"]!["id"]! });
        Assert.Equal("route+consumer", await MessageFor("alice-key"));

        foreach (var (plugin, next) in new[] { (routeConsumer, "consumer"), (consumer, "route"), (route, "service"), (service, "global"), (global, "upstream") })
        {
            Assert.Equal(204, (await _gw.SendAsync(HttpMethod.Delete, $"/plugins/{plugin["id"]}")).Status);
            Assert.Equal(next, await MessageFor("alice-key"));
        }
    }

    [Fact]
    public async Task Auth_rejection_stops_lower_priority_plugins()
    {
        await Terminate("/routes/svc-route/plugins", "terminated");
        using var response = await _gw.Proxy.GetAsync("/api");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("No API key found in request", (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["message"]);
    }

    [Fact]
    public async Task Route_plan_lists_plugins_in_priority_order_per_phase()
    {
        await _gw.CreateAsync("/routes/svc-route/plugins", new { name = "rate-limiting", config = new { minute = 100 } });
        await _gw.CreateAsync("/routes/svc-route/plugins", new { name = "cors" });
        await _gw.CreateAsync("/routes/svc-route/plugins", new { name = "correlation-id", config = new { echo_downstream = true } });
        var (status, plan) = await _gw.GetAsync("/routes/svc-route/plan");
        Assert.Equal(200, status);
        string[] Names(string phase) => [.. plan!["phases"]![phase]!.AsArray().Where(h => (string?)h!["kind"] == "plugin").Select(h => (string)h!["name"]!)];
        Assert.Equal(["correlation-id", "cors", "key-auth", "rate-limiting"], Names("access"));
        Assert.Equal(["correlation-id", "cors"], Names("response_headers"));
        Assert.Equal(404, (await _gw.GetAsync("/routes/nope/plan")).Status);
    }
}
