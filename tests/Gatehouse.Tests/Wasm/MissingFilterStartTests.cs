using System.Text.Json.Nodes;
using Gatehouse.Cli;
using Gatehouse.Tests.Cli;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Wasm;
using Xunit;

namespace Gatehouse.Tests.Wasm;

/// <summary>Kong 3.9 11-missing-filters: a stored or declared chain naming a filter that is not enabled stops the
/// start (SQLite: Kong's check_enabled_filters message; DB-less: <c>no such filter</c>). Filter plugins are not
/// covered by the check.</summary>
public sealed class MissingFilterStartTests : IAsyncLifetime
{
    private readonly string _filters = WasmPaths.MixedFilters();
    private readonly string _data = Directory.CreateTempSubdirectory("gatehouse-missing-").FullName;
    private EchoUpstream _upstream = null!;

    public async Task InitializeAsync() => _upstream = await EchoUpstream.StartAsync();

    public async Task DisposeAsync()
    {
        await _upstream.DisposeAsync();
        Directory.Delete(_filters, true);
        Directory.Delete(_data, true);
    }

    private Task<WasmGateway> Start(bool dbless, IReadOnlyList<string> enabled, string? declarative = null) =>
        WasmGateway.StartAsync(dbless, filtersPath: _filters, configure: o => o with
        {
            SqlitePath = Path.Combine(_data, "gatehouse.db"), WasmFilters = enabled, DeclarativeConfig = declarative,
        });

    [Fact]
    public async Task Sqlite_start_fails_naming_each_missing_filter_of_a_stored_chain()
    {
        string chainId;
        await using (var gw = await Start(dbless: false, ["user"]))
        {
            await gw.ServiceAndRouteAsync("svc", _upstream.Port);
            var (status, chain) = await gw.PostAsync("/routes/svc-route/filter-chains",
                """{"filters":[{"name":"response_transformer","config":"{}"},{"name":"add-headers","config":{}},{"name":"response_transformer","enabled":false}]}""");
            Assert.True(status == 201, chain?.ToJsonString());
            chainId = chain!["id"]!.GetValue<string>();
        }
        var e = await Assert.ThrowsAsync<WasmStartupException>(() => Start(dbless: false, ["add-headers"]));
        Assert.Equal("[wasm]: found one or more filter chain entities with filters that are not enabled/installed:\n"
            + $"filter chain: {chainId}, filter: #1 (response_transformer)\n"
            + $"filter chain: {chainId}, filter: #3 (response_transformer)", e.Message);

        // the CLI reports it and exits 1
        var conf = Path.Combine(_data, "gatehouse.conf");
        File.WriteAllText(conf, $"prefix = {Path.Combine(_data, "cli")}\nproxy_listen = 127.0.0.1:0\nadmin_listen = off\ndatabase = sqlite\n"
            + $"sqlite_path = {Path.Combine(_data, "gatehouse.db")}\nwasm = on\nwasm_filters_path = {_filters}\nwasm_filters = add-headers\n");
        var error = new SyncWriter();
        var code = await GatehouseCli.InvokeAsync(["start", "-c", conf], new CliContext(new SyncWriter(), error, new Dictionary<string, string?>()));
        Assert.Equal(1, code);
        Assert.Contains("cannot start: [wasm]: found one or more filter chain entities", error.ToString());
        Assert.Contains($"filter chain: {chainId}, filter: #1 (response_transformer)", error.ToString());

        // with every filter enabled again, the same database starts and the chain runs
        await using var again = await Start(dbless: false, ["user"]);
        using var response = await again.Proxy.SendAsync(ProxyRequests.Get("/svc"));
        Assert.Equal(200, (int)response.StatusCode);
    }

    [Fact]
    public async Task Sqlite_start_ignores_filter_plugins_whose_filter_is_missing_and_does_not_run_them()
    {
        await using (var gw = await Start(dbless: false, ["user"]))
        {
            var (_, routeId) = await gw.ServiceAndRouteAsync("svc", _upstream.Port);
            var (status, body) = await gw.PostAsync("/plugins",
                $$$"""{"name":"response_transformer","route":{"id":"{{{routeId}}}"},"config":"{\"add\":{\"headers\":[\"X-Plugin:yes\"]}}"}""");
            Assert.True(status == 201, body?.ToJsonString());
            using var before = await gw.Proxy.SendAsync(ProxyRequests.Get("/svc"));
            Assert.Equal("yes", before.Single("X-Plugin"));
        }
        await using var restarted = await Start(dbless: false, ["add-headers"]);
        using var response = await restarted.Proxy.SendAsync(ProxyRequests.Get("/svc"));
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Null(response.Single("X-Plugin"));
        var (_, list) = await restarted.GetAsync("/plugins");
        Assert.Equal("response_transformer", list!["data"]![0]!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task Dbless_start_fails_with_no_such_filter()
    {
        var file = Path.Combine(_data, "kong.yml");
        await File.WriteAllTextAsync(file, $$"""
            _format_version: "3.0"
            services:
              - name: test
                url: http://127.0.0.1:{{_upstream.Port}}
                routes:
                  - name: test
                    paths: [/dbless]
                    filter_chains:
                      - filters:
                          - name: response_transformer
                            config: "{}"
                          - name: add-headers
                            config: {}
                          - name: response_transformer
                            config: "{}"
            """);
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => Start(dbless: true, ["add-headers"], file));
        Assert.Contains("no such filter", e.Message);
        await using var ok = await Start(dbless: true, ["user"], file);
        Assert.Single((await ok.GetAsync("/filter-chains")).Body!["data"]!.AsArray());
    }
}
