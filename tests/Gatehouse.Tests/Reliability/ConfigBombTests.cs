using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Hosting;
using Gatehouse.Config;
using Gatehouse.Entities;
using Gatehouse.Store;
using Gatehouse.Store.Declarative;
using Gatehouse.Tests.Admin;
using Gatehouse.Tests.Store;

namespace Gatehouse.Tests.Reliability;

/// <summary>
/// Declarative files built to make the parser expand or recurse without bound. Each must be refused with a
/// declarative error through every entry point (the parser, <c>POST /config</c>, <c>config parse</c>, start),
/// allocating a few MB at most, while legitimate anchors, aliases and merge keys still load.
/// </summary>
public sealed class ConfigBombTests
{
    /// <summary>Allocation bound for refusing one bomb (the bound on process growth).</summary>
    private const long MaxBombAllocation = 50L << 20;

    private const string Head = "_format_version: \"3.0\"\n";

    /// <summary>The shape (483 bytes): nine levels of nine aliases of the level below, 9^9 leaves.</summary>
    private static string NestedAliases(int levels = 9, int width = 9)
    {
        var sb = new StringBuilder(Head).Append("_ignore:\n- l0: &l0 [\"lol\"]\n");
        for (var i = 1; i <= levels; i++)
            sb.Append($"  l{i}: &l{i} [").Append(string.Join(",", Enumerable.Repeat($"*l{i - 1}", width))).Append("]\n");
        return sb.ToString();
    }

    /// <summary>Billion laughs written entirely in flow style, as one line.</summary>
    private static string FlowLaughs()
    {
        var sb = new StringBuilder("{_format_version: \"3.0\", _ignore: [&a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]");
        var prev = "a";
        foreach (var name in "bcdefghi")
        {
            sb.Append($", &{name} [").Append(string.Join(", ", Enumerable.Repeat($"*{prev}", 10))).Append(']');
            prev = name.ToString();
        }
        return sb.Append("]}").ToString();
    }

    /// <summary>Merge keys as the multiplier: each level merges the one below and holds nine more copies of it.</summary>
    private static string MergeKeys()
    {
        var sb = new StringBuilder(Head).Append("_ignore:\n- m0: &m0 {a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8}\n");
        for (var i = 1; i <= 9; i++)
            sb.Append($"  m{i}: &m{i} {{<<: [*m{i - 1}, *m{i - 1}], ")
              .Append(string.Join(", ", Enumerable.Range(1, 9).Select(k => $"k{k}: *m{i - 1}"))).Append("}\n");
        return sb.ToString();
    }

    /// <summary>One large scalar copied many times: few nodes, many characters.</summary>
    private static string HugeScalar() =>
        Head + "_ignore:\n- s: &s \"" + new string('x', 256 * 1024) + "\"\n  copies: [" + string.Join(",", Enumerable.Repeat("*s", 4096)) + "]\n";

    /// <summary>A mapping with many keys, copied by alias many times.</summary>
    private static string ManyKeys() =>
        Head + "_ignore:\n- k: &k {" + string.Join(", ", Enumerable.Range(0, 2000).Select(i => $"k{i}: {i}")) + "}\n  copies: ["
        + string.Join(",", Enumerable.Repeat("*k", 2000)) + "]\n";

    private static string DeepBlockSequences(int depth) => Head + "_ignore: " + new string('[', depth) + new string(']', depth) + "\n";

    public static TheoryData<string, string> Bombs => new()
    {
        { "nested-aliases", NestedAliases() },
        { "flow-laughs", FlowLaughs() },
        { "merge-keys", MergeKeys() },
        { "huge-scalar", HugeScalar() },
        { "many-keys", ManyKeys() },
        { "deep-1000", DeepBlockSequences(1000) },
    };

    [Theory]
    [MemberData(nameof(Bombs))]
    public void Parser_refuses_each_bomb_within_a_small_allocation(string shape, string text)
    {
        var loader = new DeclarativeLoader(GatehouseEntities.Default, TimeProvider.System);
        var bytes = Encoding.UTF8.GetBytes(text);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var result = loader.Load(bytes);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.False(result.IsValid, shape);
        Assert.Equal(DbErrorCode.DeclarativeConfig, result.Error!.Code);
        Assert.StartsWith("failed parsing declarative configuration: failed parsing YAML: ", (string?)result.Error.Fields!["error"]);
        Assert.True(allocated < MaxBombAllocation + 8L * bytes.Length, $"{shape}: {allocated / 1048576.0:F1} MB allocated");
    }

    [Fact]
    public void Nesting_far_beyond_the_limit_is_refused_without_recursion()
    {
        var yaml = new DeclarativeLoader(GatehouseEntities.Default, TimeProvider.System).Load(DeepBlockSequences(200_000));
        Assert.Contains($"nesting deeper than {DeclarativeParser.MaxDepth} levels", yaml.Error!.Message);
        var json = "{\"_format_version\":\"3.0\",\"_ignore\":" + new string('[', 200_000) + new string(']', 200_000) + "}";
        Assert.False(new DeclarativeLoader(GatehouseEntities.Default, TimeProvider.System).Load(json).IsValid);
    }

    [Fact]
    public void Nesting_at_the_limit_still_loads()
    {
        // _ignore sits at depth 1 under the top-level mapping.
        var depth = DeclarativeParser.MaxDepth - 1;
        var result = new DeclarativeLoader(GatehouseEntities.Default, TimeProvider.System).Load(DeepBlockSequences(depth));
        Assert.True(result.IsValid, result.Error?.Message);
    }

    [Fact]
    public void Many_real_keys_load_in_linear_time()
    {
        // 200k distinct keys written out (no aliases) is content, not expansion: it loads.
        var text = Head + "_ignore:\n- _: 0\n" + string.Concat(Enumerable.Range(0, 200_000).Select(i => $"  key{i}: {i}\n"));
        var result = new DeclarativeLoader(GatehouseEntities.Default, TimeProvider.System).Load(text);
        Assert.True(result.IsValid, result.Error?.Message);
    }

    [Fact]
    public void Anchors_aliases_and_merge_keys_used_normally_still_load()
    {
        const string yaml = """
            _format_version: "3.0"
            _ignore:
              - limits: &limits {minute: 5, policy: local}
            services:
              - name: a
                url: http://a.internal
                plugins:
                  - name: rate-limiting
                    config: *limits
                routes:
                  - name: ra
                    paths: [/a]
              - name: b
                url: http://b.internal
                plugins:
                  - name: rate-limiting
                    config:
                      <<: *limits
                      minute: 7
                routes:
                  - &route {name: rb, paths: [/b], strip_path: false}
            """;
        var result = new DeclarativeLoader(GatehouseEntities.Default, TimeProvider.System).Load(yaml);
        Assert.True(result.IsValid, result.Error?.Message);
        var plugins = result.Entities!.Single(kv => kv.Key.Name == "plugins").Value;
        Assert.Equal(2, plugins.Count);
        Assert.Equal([5.0, 7.0], plugins.Select(p => (double)p["config"]!["minute"]!).Order());
        Assert.All(plugins, p => Assert.Equal("local", (string?)p["config"]!["policy"]));
        var route = result.Entities!.Single(kv => kv.Key.Name == "routes").Value.Single(r => (string?)r["name"] == "rb");
        Assert.False((bool)route["strip_path"]!);
    }

    [Fact]
    public void A_thousand_routes_sharing_one_plugin_config_by_alias_load()
    {
        var sb = new StringBuilder(Head).Append("_ignore:\n- shared: &shared {minute: 100, hour: 1000, policy: local, fault_tolerant: true, hide_client_headers: false}\nservices:\n");
        for (var i = 0; i < 1000; i++)
            sb.Append($"  - name: s{i}\n    url: http://s{i}.internal\n    plugins:\n      - name: rate-limiting\n        config: *shared\n");
        var result = new DeclarativeLoader(GatehouseEntities.Default, TimeProvider.System).Load(sb.ToString());
        Assert.True(result.IsValid, result.Error?.Message);
        Assert.Equal(1000, result.Entities!.Single(kv => kv.Key.Name == "plugins").Value.Count);
    }

    [Fact]
    public void Unknown_and_self_referencing_anchors_are_errors()
    {
        var loader = new DeclarativeLoader(GatehouseEntities.Default, TimeProvider.System);
        Assert.Contains("unknown anchor 'nope'", loader.Load(Head + "_comment: *nope\n").Error!.Message);
        Assert.Contains("unknown anchor 'a'", loader.Load(Head + "_comment: &a [*a]\n").Error!.Message);
    }

    [Fact]
    public async Task Post_config_answers_400_quickly_in_kongs_declarative_shape()
    {
        await using var host = await AdminTestHost.StartAsync(new GatehouseOptions { Database = DatabaseKind.Off });
        foreach (var (body, type) in new[] { (NestedAliases(), "text/yaml"), (FlowLaughs(), "application/x-yaml") })
        {
            var watch = Stopwatch.StartNew();
            var (status, error) = await host.SendRawAsync(HttpMethod.Post, "/config", Encoding.UTF8.GetBytes(body), type);
            watch.Stop();
            Assert.Equal(400, status);
            Assert.Equal(14, (int)error!["code"]!);
            Assert.Equal("invalid declarative configuration", (string?)error["name"]);
            Assert.StartsWith("failed parsing declarative configuration: failed parsing YAML: aliases expand to more than", (string?)error["fields"]!["error"]);
            Assert.NotNull(error["fields"]);
            // Generous: the refusal takes milliseconds; the old expansion took minutes and gigabytes.
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"{watch.Elapsed}");
        }
        // Also as {"config": "<yaml>"} in JSON, and as a form field.
        var (s2, _) = await host.PostAsync("/config", new JsonObject { ["config"] = MergeKeys() }.ToJsonString());
        Assert.Equal(400, s2);
        using var form = new FormUrlEncodedContent([KeyValuePair.Create("config", NestedAliases())]);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/config") { Content = form };
        Assert.Equal(400, (await host.SendAsync(request)).Status);
        // Nothing was applied, and the Admin API still answers.
        Assert.Equal(200, (await host.GetAsync("/")).Status);
        Assert.Empty((await host.GetAsync("/services")).Body!["data"]!.AsArray());
    }

    [Fact]
    public void Config_parse_refuses_the_bomb()
    {
        using var dir = new TempDir();
        var file = dir.File("bomb.yml");
        File.WriteAllText(file, NestedAliases());
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        Assert.Equal(1, StoreCommands.ParseDeclarative(file, GatehouseEntities.Default, stdout, stderr));
        Assert.Contains("aliases expand to more than", stderr.ToString());
    }

    [Fact]
    public async Task Start_with_the_bomb_as_declarative_config_fails_cleanly()
    {
        using var dir = new TempDir();
        var file = dir.File("kong.yml");
        await File.WriteAllTextAsync(file, FlowLaughs());
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            AdminTestHost.StartAsync(new GatehouseOptions { Database = DatabaseKind.Off, DeclarativeConfig = file }));
        Assert.Contains("aliases expand to more than", error.Message);
    }
}
