using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Wasm;
using Xunit;

namespace Gatehouse.Tests.Wasm;

/// <summary>Filter discovery (Kong §1.1) and metadata loading (§1.2) on real directories and real filter files.</summary>
public sealed class WasmFilterCatalogTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("gatehouse-catalog-").FullName;
    private readonly string _bundled = Directory.CreateTempSubdirectory("gatehouse-bundled-").FullName;

    public void Dispose()
    {
        Directory.Delete(_dir, true);
        Directory.Delete(_bundled, true);
    }

    private GatehouseOptions Options(params string[] filters) =>
        new() { Wasm = true, WasmFiltersPath = _dir, WasmFilters = filters.Length == 0 ? ["bundled", "user"] : filters };

    private static void Wasm(string dir, string file) => File.Copy(Path.Combine(WasmPaths.Examples, "add-headers.wasm"), Path.Combine(dir, file));

    [Fact]
    public void Discovers_top_level_wasm_files_sorted_by_name()
    {
        Wasm(_dir, "zeta.wasm");
        Wasm(_dir, "Alpha.WASM");
        Wasm(_dir, "beta.wasm");
        File.WriteAllText(Path.Combine(_dir, "notes.txt"), "x");
        Directory.CreateDirectory(Path.Combine(_dir, "sub"));
        Wasm(Path.Combine(_dir, "sub"), "nested.wasm");
        Directory.CreateDirectory(Path.Combine(_dir, "dir.wasm"));
        var catalog = WasmFilterCatalog.Load(Options(), _bundled);
        Assert.Equal(["Alpha", "beta", "zeta"], catalog.Names);
        Assert.True(catalog.Enabled);
        Assert.Null(catalog.DisabledReason);
    }

    [Fact]
    public void Selection_by_bundled_user_names_and_off()
    {
        Wasm(_dir, "user1.wasm");
        Wasm(_dir, "shared.wasm");
        Wasm(_bundled, "bundled1.wasm");
        Wasm(_bundled, "shared.wasm");
        var all = WasmFilterCatalog.Load(Options(), _bundled);
        Assert.Equal(["bundled1", "shared", "user1"], all.Names);
        Assert.StartsWith(_dir, all.ByName("shared")!.Path); // user wins over bundled
        Assert.Equal(["user1"], WasmFilterCatalog.Load(Options("user1"), _bundled).Names);
        Assert.Equal(["bundled1", "shared"], WasmFilterCatalog.Load(Options("bundled"), _bundled).Names);
        var off = WasmFilterCatalog.Load(Options("user", "off"), _bundled);
        Assert.Empty(off.Names);
        Assert.Equal("no wasm filters are available", off.DisabledReason);
        Assert.Equal("wasm support is not enabled", WasmFilterCatalog.Load(new GatehouseOptions { Wasm = false }).DisabledReason);
    }

    [Fact]
    public void Metadata_schema_is_registered_with_draft4_and_validates_config()
    {
        Wasm(_dir, "f.wasm");
        File.WriteAllText(Path.Combine(_dir, "f.meta.json"), """{"config_schema":{"type":"object","properties":{"foo":{"type":"string"}},"required":["foo"]}}""");
        var filter = WasmFilterCatalog.Load(Options(), _bundled).ByName("f")!;
        Assert.True(filter.HasConfigSchema);
        Assert.Equal("http://json-schema.org/draft-04/schema#", filter.ConfigSchemaJson["$schema"]!.GetValue<string>());
        Assert.Null(filter.ConfigSchema.Validate(JsonNode.Parse("""{"foo":"x"}""")));
        Assert.Equal("property foo is required", filter.ConfigSchema.Validate(new JsonObject()));
        Assert.StartsWith("property foo validation failed: wrong type: expected string, got number", filter.ConfigSchema.Validate(JsonNode.Parse("""{"foo":1}""")));
    }

    [Fact]
    public void Bad_metadata_stops_the_start_listing_every_failure()
    {
        foreach (var n in new[] { "a", "b", "c", "d", "e" }) Wasm(_dir, n + ".wasm");
        File.WriteAllText(Path.Combine(_dir, "a.meta.json"), "oops!");
        File.WriteAllText(Path.Combine(_dir, "b.meta.json"), """{"config_schema":{"type":"i am not a valid type"}}""");
        File.WriteAllText(Path.Combine(_dir, "c.meta.json"), """{"metrics":{"label_patterns":["invalid","invalid"]}}""");
        Directory.CreateDirectory(Path.Combine(_dir, "d.meta.json"));
        // a pattern the metrics exporter cannot compile used to pass here and then break every /metrics scrape
        File.WriteAllText(Path.Combine(_dir, "e.meta.json"), """{"metrics":{"label_patterns":[{"label":"route","pattern":"(_route=([a-z"}]}}""");
        var e = Assert.Throws<WasmStartupException>(() => WasmFilterCatalog.Load(Options(), _bundled));
        Assert.StartsWith("\nFailed to load metadata for one or more filters:\n", e.Message);
        Assert.Contains($"* a ({Path.Combine(_dir, "a.meta.json")}) JSON decode error: ", e.Message);
        Assert.Contains($"* b ({Path.Combine(_dir, "b.meta.json")}) file contains invalid metadata: ", e.Message);
        Assert.Contains($"* c ({Path.Combine(_dir, "c.meta.json")}) file contains invalid metadata: ", e.Message);
        Assert.Contains($"* d ({Path.Combine(_dir, "d.meta.json")}) invalid type: path exists but is not a file", e.Message);
        Assert.Contains($"* e ({Path.Combine(_dir, "e.meta.json")}) file contains invalid metadata: property metrics validation failed: property label_patterns validation failed: invalid pattern '(_route=([a-z': ", e.Message);
    }
}
