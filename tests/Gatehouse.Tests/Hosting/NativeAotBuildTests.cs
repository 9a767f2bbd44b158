using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Tests.Plugins;
using Gatehouse.Tests.Store;
using Gatehouse.Tests.Wasm;
using Xunit;

namespace Gatehouse.Tests.Hosting;

/// <summary>
/// The native build (<c>dotnet publish src/Gatehouse -c Release -p:PublishAot=true</c>, README "Native build"): a
/// NativeAOT executable keeps only what trimming proves reachable, so whatever the code reaches by reflection alone would
/// be missing there and nowhere else. The build turns every trim and AOT warning of Gatehouse's own code into an error;
/// these tests run the executable itself through what leans on reflection-prone libraries: the declarative YAML
/// reader and the exporter, Proxy-Wasm filters on Wasmtime with JSON-schema-checked config, plugins (their phases are
/// read from the handler types), Kong's error JSON, prometheus-net, the OpenTelemetry exporter and the SQLite store.
/// test.sh publishes it once and names it in <c>GATEHOUSE_AOT_EXECUTABLE</c>; without it the fixture publishes it.
/// </summary>
public sealed class NativeAotBuildTests(NativeAotExecutable native) : IClassFixture<NativeAotExecutable>
{
    [Fact]
    public async Task A_native_db_less_node_runs_filters_plugins_tracing_metrics_and_exports_what_it_loaded()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var otlp = await OtlpReceiver.StartAsync();
        var yml = $$"""
            _format_version: "3.0"
            services:
              - name: echo
                url: http://127.0.0.1:{{upstream.Port}}
                routes:
                  - name: filtered
                    paths: [/f]
                    filter_chains:
                      - filters:
                          - name: add-headers
                            config: { request: { add: { x-native: "yes" } }, response: { add: { x-demo: "through a filter" } } }
                          - name: request-counter
                            config: {key: native, header: x-request-count, metric: native_requests_total}
                  - name: keyed
                    paths: [/k]
                    plugins:
                      - name: key-auth
                      - name: rate-limiting
                        config: {minute: 1000, policy: local}
            consumers:
              - username: alice
                keyauth_credentials:
                  - key: alice-key
            plugins:
              - name: opentelemetry
                config: {traces_endpoint: "{{otlp.TracesUrl}}", sampling_rate: 1.0}
            """;
        await using var gateway = await GatewayProcess.StartDbLessAsync(yml, WasmPaths.CopyFilters(WasmPaths.Examples, "add-headers", "request-counter"),
            admin: true, executable: native.Path, extraConf: "tracing_instrumentations = all");
        using var client = new HttpClient();

        using (var filtered = await client.GetAsync(new Uri(gateway.ProxyUri, "/f")))
        {
            Assert.Equal(HttpStatusCode.OK, filtered.StatusCode);
            Assert.Equal("through a filter", filtered.Headers.GetValues("x-demo").Single());
            Assert.Equal("1", filtered.Headers.GetValues("x-request-count").Single());
            var echoed = JsonNode.Parse(await filtered.Content.ReadAsStringAsync())!;
            Assert.Equal("yes", (string?)echoed["headers"]!["x-native"]);
        }

        using (var noKey = await client.GetAsync(new Uri(gateway.ProxyUri, "/k")))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, noKey.StatusCode);
            Assert.Equal("No API key found in request", (string?)JsonNode.Parse(await noKey.Content.ReadAsStringAsync())!["message"]);
        }
        using (var keyed = new HttpRequestMessage(HttpMethod.Get, new Uri(gateway.ProxyUri, "/k")))
        {
            keyed.Headers.Add("apikey", "alice-key");
            using var response = await client.SendAsync(keyed);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("999", response.Headers.GetValues("X-RateLimit-Remaining-Minute").Single());
        }

        var deadline = Stopwatch.StartNew();
        while (otlp.Spans.Count == 0 && deadline.Elapsed < TimeSpan.FromSeconds(20)) await Task.Delay(100);
        Assert.Contains(otlp.Spans, s => s.Kind == 2); // a server span of the proxied requests, exported over OTLP/HTTP

        var metrics = await client.GetStringAsync(new Uri(gateway.AdminUri!, "/metrics"));
        Assert.Contains("kong_nginx_connections_total", metrics, StringComparison.Ordinal);
        Assert.Contains("native_requests_total", metrics, StringComparison.Ordinal); // the filter's own metric

        // the loaded configuration exported as YAML and posted back: accepted unchanged, still served
        var export = JsonNode.Parse(await client.GetStringAsync(new Uri(gateway.AdminUri!, "/config")))!;
        var exported = (string)export["config"]!;
        Assert.Contains("_format_version: \"3.0\"", exported, StringComparison.Ordinal);
        using (var posted = await client.PostAsync(new Uri(gateway.AdminUri!, "/config"), new StringContent(exported, Encoding.UTF8, "application/yaml")))
            Assert.Equal(HttpStatusCode.Created, posted.StatusCode);
        using (var again = await client.GetAsync(new Uri(gateway.ProxyUri, "/f")))
            Assert.Equal("through a filter", again.Headers.GetValues("x-demo").Single());

        // a filter config its schema refuses: Kong's error JSON, the configuration served before kept
        var bad = yml.Replace("x-native: \"yes\"", "x-native: 7", StringComparison.Ordinal);
        using (var refused = await client.PostAsync(new Uri(gateway.AdminUri!, "/config"), new StringContent(bad, Encoding.UTF8, "application/yaml")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            var error = JsonNode.Parse(await refused.Content.ReadAsStringAsync())!;
            Assert.Equal(14, (int)error["code"]!);
            Assert.Equal("invalid declarative configuration", (string?)error["name"]);
        }
        using (var still = await client.GetAsync(new Uri(gateway.ProxyUri, "/f")))
            Assert.Equal(HttpStatusCode.OK, still.StatusCode);
    }

    [Fact]
    public async Task A_native_node_on_sqlite_takes_admin_api_writes_refuses_bad_ones_and_quits_on_the_cli()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        using var temp = new TempDir();
        var dir = temp.Path;
        await using var gateway = await GatewayProcess.StartSqliteAsync(dir, native.Path);
        using var admin = new HttpClient { BaseAddress = gateway.AdminUri };

        var (status, body) = await AdminCalls.SendAsync(admin, HttpMethod.Post, "/services", new { name = "echo", url = $"http://127.0.0.1:{upstream.Port}" });
        Assert.Equal(201, status);
        Assert.Equal(201, (await AdminCalls.SendAsync(admin, HttpMethod.Post, "/services/echo/routes", new { name = "r", paths = new[] { "/s" } })).Status);

        (status, body) = await AdminCalls.SendAsync(admin, HttpMethod.Post, "/services", new { name = "bad", url = "not a url", retries = -1 });
        Assert.Equal(400, status);
        Assert.Equal(2, (int)body!["code"]!);
        Assert.Equal("schema violation", (string?)body["name"]);
        Assert.NotNull(body["fields"]!["retries"]);
        Assert.Equal(404, (await AdminCalls.SendAsync(admin, HttpMethod.Get, "/services/nope")).Status);

        using var client = new HttpClient();
        var deadline = Stopwatch.StartNew();
        HttpStatusCode proxied;
        do
        {
            using var response = await client.GetAsync(new Uri(gateway.ProxyUri, "/s/x"));
            proxied = response.StatusCode;
            if (proxied != HttpStatusCode.OK) await Task.Delay(100);
        } while (proxied != HttpStatusCode.OK && deadline.Elapsed < TimeSpan.FromSeconds(20));
        Assert.Equal(HttpStatusCode.OK, proxied);

        var (exit, stdout, stderr) = await GatewayProcess.RunToExitWithAsync(native.Path, "quit", "-p", dir, "--timeout", "30");
        Assert.True(exit == 0, stdout + stderr);
        await gateway.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
    }
}

/// <summary>The native executable under test: <c>GATEHOUSE_AOT_EXECUTABLE</c> when set (test.sh publishes it before the
/// suite), else published here once for the class (a few minutes).</summary>
public sealed class NativeAotExecutable : IAsyncLifetime
{
    private TempDir? _ownedDir;

    public string Path { get; private set; } = "";

    public async Task InitializeAsync()
    {
        if (Environment.GetEnvironmentVariable("GATEHOUSE_AOT_EXECUTABLE") is { Length: > 0 } given)
        {
            Path = File.Exists(given) ? given : throw new InvalidOperationException($"GATEHOUSE_AOT_EXECUTABLE={given}: no such file (the native publish before the suite failed?)");
            return;
        }
        _ownedDir = new TempDir();
        using var publish = Process.Start(new ProcessStartInfo("dotnet",
            ["publish", System.IO.Path.Combine(WasmPaths.Repo, "src", "Gatehouse"), "-c", "Release", "-p:PublishAot=true", "-o", _ownedDir.Path])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var output = publish.StandardOutput.ReadToEndAsync();
        var errors = publish.StandardError.ReadToEndAsync();
        await publish.WaitForExitAsync();
        if (publish.ExitCode != 0) throw new InvalidOperationException("the native publish failed:\n" + await output + await errors);
        Path = _ownedDir.File("gatehouse");
    }

    public Task DisposeAsync()
    {
        _ownedDir?.Dispose();
        return Task.CompletedTask;
    }
}
