using System.Text.Json.Nodes;
using Gatehouse.Cli;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Tests.Wasm;
using static Gatehouse.Tests.Cli.CliRun;

namespace Gatehouse.Tests.Cli;

/// <summary><c>gatehouse config parse</c> with Kong's <c>-c/--conf</c> and <c>-p/--prefix</c> and the settings
/// <c>start</c> reads, and a <c>start</c> whose <c>declarative_config</c> is invalid, as a real process.</summary>
public sealed class ConfigCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("gatehouse-config-cmd-").FullName;
    private readonly string _filters = WasmPaths.CopyFilters(WasmPaths.Examples, "add-headers");

    public void Dispose()
    {
        Directory.Delete(_dir, recursive: true);
        Directory.Delete(_filters, recursive: true);
    }

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private string ChainFile() => Write("kong.yml", """
        _format_version: "3.0"
        services:
          - name: s
            url: http://127.0.0.1:9
            routes:
              - name: r
                paths: [/r]
                filter_chains:
                  - filters:
                      - name: add-headers
                        config: {response: {add: {x-a: "1"}}}
        """);

    /// <summary>Upstreams with nested targets and a top-level target parse; a target out of range is Kong's error.</summary>
    [Fact]
    public async Task Parse_reads_upstreams_and_targets()
    {
        var good = Write("up.yml", """
            _format_version: "3.0"
            upstreams:
              - name: backend.internal
                targets:
                  - target: 10.0.0.1
            targets:
              - target: 10.0.0.2:81
                upstream: backend.internal
            """);
        var env = new Dictionary<string, string?> { ["GATEHOUSE_DATABASE"] = "off" };
        var (code, _, error) = await RunAsync(env, "config", "parse", good, "-p", Path.Combine(_dir, "p1"));
        Assert.True(code == 0, error);
        var bad = Write("bad.yml", """
            _format_version: "3.0"
            upstreams:
              - name: backend.internal
                targets:
                  - target: 10.0.0.1
                    weight: 70000
            """);
        var (badCode, badOut, badError) = await RunAsync(env, "config", "parse", bad, "-p", Path.Combine(_dir, "p2"));
        Assert.NotEqual(0, badCode);
        Assert.Contains("value should be between 0 and 65535", badOut + badError);
    }

    /// <summary>Certificates with nested SNIs and CA certificates parse (they stopped at "unknown field"); an SNI with a
    /// misplaced wildcard is Kong's error.</summary>
    [Fact]
    public async Task Parse_reads_certificates_snis_and_ca_certificates()
    {
        var pair = TestCertificates.Ecdsa();
        var ca = TestCertificates.Ca();
        var node = new JsonObject
        {
            ["_format_version"] = "3.0",
            ["certificates"] = new JsonArray(new JsonObject
            {
                ["cert"] = pair.Cert, ["key"] = pair.Key,
                ["snis"] = new JsonArray(new JsonObject { ["name"] = "*.tls.test" }),
            }),
            ["ca_certificates"] = new JsonArray(new JsonObject { ["cert"] = ca.Cert }),
        };
        var env = new Dictionary<string, string?> { ["GATEHOUSE_DATABASE"] = "off" };
        var (code, _, error) = await RunAsync(env, "config", "parse", Write("tls.yml", node.ToJsonString()), "-p", Path.Combine(_dir, "p1"));
        Assert.True(code == 0, error);
        node["certificates"]![0]!["snis"]![0]!["name"] = "a.*.tls.test";
        var (badCode, badOut, badError) = await RunAsync(env, "config", "parse", Write("bad.yml", node.ToJsonString()), "-p", Path.Combine(_dir, "p2"));
        Assert.NotEqual(0, badCode);
        Assert.Contains("wildcard must be leftmost or rightmost character", badOut + badError);
    }

    [Fact]
    public async Task Parse_checks_filter_chains_against_the_filters_the_environment_names()
    {
        var file = ChainFile();
        var prefix = Path.Combine(_dir, "prefix");
        var (code, output, error) = await RunAsync(new Dictionary<string, string?>
        {
            ["GATEHOUSE_WASM"] = "on",
            ["KONG_WASM_FILTERS_PATH"] = _filters,
            ["GATEHOUSE_DATABASE"] = "off",
        }, "config", "parse", file, "-p", prefix);
        Assert.True(code == 0, error);
        Assert.Contains("parse successful", output);

        var (without, _, withoutError) = await RunAsync(new Dictionary<string, string?> { ["GATEHOUSE_PREFIX"] = prefix }, "config", "parse", file);
        Assert.Equal(1, without);
        Assert.Contains("filter_chain", withoutError);
    }

    [Fact]
    public async Task Parse_reads_the_conf_file_given_with_c()
    {
        var file = ChainFile();
        var conf = Write("gatehouse.conf", $"prefix = {Path.Combine(_dir, "prefix")}\ndatabase = off\nwasm = on\nwasm_filters_path = {_filters}\n");
        var noEnv = new Dictionary<string, string?>();
        var (code, _, error) = await RunAsync(noEnv, "config", "parse", file, "-c", conf);
        Assert.True(code == 0, error);
        var (longForm, _, longError) = await RunAsync(noEnv, "config", "parse", "--conf", conf, file);
        Assert.True(longForm == 0, longError);

        var bad = Write("bad.conf", "log_level = chatty\n");
        var (badCode, _, badError) = await RunAsync(noEnv, "config", "parse", file, "-c", bad);
        Assert.Equal(1, badCode);
        Assert.Contains("log_level", badError);
    }

    [Fact]
    public async Task Parse_of_a_2_1_file_warns_of_migrated_paths_and_refuses_an_invalid_regex()
    {
        var noEnv = new Dictionary<string, string?>();
        var good = Write("good.yml", "_format_version: \"2.1\"\nroutes:\n  - name: r\n    paths: [/users/\\d+]\n");
        var (code, _, warning) = await RunAsync(noEnv, "config", "parse", good, "-p", Path.Combine(_dir, "prefix"));
        Assert.True(code == 0, warning);
        Assert.Contains(@"warning: route path '/users/\d+' is read as the regex '~/users/\d+'", warning);

        var bad = Write("bad.yml", "_format_version: \"2.1\"\nroutes:\n  - name: r\n    paths: [\"/users/(\"]\n");
        var (badCode, _, error) = await RunAsync(noEnv, "config", "parse", bad, "-p", Path.Combine(_dir, "prefix"));
        Assert.Equal(1, badCode);
        Assert.Contains("invalid regex: '/users/('", error);
    }

    [Fact]
    public async Task Start_logs_each_migrated_path_of_a_1_1_declarative_config()
    {
        var kongYml = Write("kong.yml", "_format_version: \"1.1\"\nroutes:\n  - name: r\n    paths: [/users/\\d+]\n");
        var options = new Gatehouse.Config.GatehouseOptions
        {
            Prefix = Path.Combine(_dir, "prefix"),
            ProxyListen = [Gatehouse.Config.ListenAddress.Parse("127.0.0.1:0")],
            AdminListen = [],
            Database = Gatehouse.Config.DatabaseKind.Off,
            DeclarativeConfig = kongYml,
            ProxyAccessLog = "off",
        };
        var logs = new LogCapture();
        await using var host = Gatehouse.Hosting.GatewayHost.Create(options, new Gatehouse.Hosting.GatewayHostOptions { ConfigureLogging = logs.Install });
        await host.StartAsync();
        await host.StopAsync();
        var warning = Assert.Single(logs.Entries, e => e.EventId.Id == 2004);
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Warning, warning.Level);
        Assert.Contains(@"route path '/users/\d+' is read as the regex '~/users/\d+'", warning.Message);
        Assert.Equal(@"~/users/\d+", Assert.Single(host.Publisher.Current.Routes).Paths[0]);
    }

    [Fact]
    public async Task Start_with_an_invalid_declarative_config_fails_in_one_clean_message()
    {
        var kongYml = Write("kong.yml", "_format_version: \"3.0\"\nservices:\n  - name: a\n    port: 99999\n");
        var conf = Write("gatehouse.conf", $"""
            prefix = {Path.Combine(_dir, "prefix")}
            proxy_listen = 127.0.0.1:{EchoUpstream.FreePort()}
            admin_listen = off
            database = off
            declarative_config = {kongYml}
            """);
        var (code, stdout, stderr) = await GatewayProcess.RunToExitAsync("start", "-c", conf);
        Assert.Equal(1, code);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal($"error: cannot start: error parsing declarative config file {kongYml}:", lines[0]);
        Assert.Contains("in service 'a' (", lines[1]);
        Assert.Contains(lines, l => l.EndsWith("port: value should be between 0 and 65535", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.EndsWith("host: required field missing", StringComparison.Ordinal));
        Assert.Equal(3, lines.Length);
        Assert.DoesNotContain("   at ", stdout + stderr);
        Assert.DoesNotContain("Exception", stdout + stderr);
    }
}
