using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Config;

namespace Gatehouse.Wasm;

/// <summary>
/// The enabled filters (Kong §1.1 discovery and §1.2 metadata), computed once at start from the options.
/// Immutable; injected wherever the list of filters matters (entity checks, Admin API, plan building).
/// </summary>
public sealed class WasmFilterCatalog
{
    /// <summary>Kong's bundled directory; Gatehouse ships no bundled filters, so this normally does not exist.</summary>
    public const string BundledFiltersPath = "/usr/local/gatehouse/wasm";

    private readonly Dictionary<string, WasmFilterInfo> _byName;

    private WasmFilterCatalog(bool enabled, IReadOnlyList<WasmFilterInfo> filters)
    {
        WasmOn = enabled;
        Filters = filters;
        _byName = filters.ToDictionary(f => f.Name, StringComparer.Ordinal);
        Names = [.. filters.Select(f => f.Name)];
    }

    /// <summary>A catalog for <c>wasm = off</c>.</summary>
    public static WasmFilterCatalog Off { get; } = new(false, []);

    /// <summary>The <c>wasm</c> switch.</summary>
    public bool WasmOn { get; }
    /// <summary>Sorted by name (ordinal, Lua byte order).</summary>
    public IReadOnlyList<WasmFilterInfo> Filters { get; }
    public IReadOnlyList<string> Names { get; }
    /// <summary>True when wasm is on and at least one filter is enabled.</summary>
    public bool Enabled => WasmOn && Filters.Count > 0;

    /// <summary>Kong's <c>wasm.status</c>: null when enabled, else the message clients see.</summary>
    public string? DisabledReason => !WasmOn ? "wasm support is not enabled"
        : Filters.Count == 0 ? "no wasm filters are available" : null;

    public WasmFilterInfo? ByName(string name) => _byName.GetValueOrDefault(name);

    /// <summary>Discovers filters and loads their metadata; throws <see cref="WasmStartupException"/> with Kong's
    /// message listing every metadata failure.</summary>
    public static WasmFilterCatalog Load(GatehouseOptions options, string bundledPath = BundledFiltersPath)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!options.Wasm) return Off;
        var selection = options.WasmFilters;
        if (selection.Contains("off")) return new WasmFilterCatalog(true, []);
        var bundled = Scan(bundledPath);
        var user = options.WasmFiltersPath is { } p ? Scan(p) : [];
        var chosen = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, path) in bundled)
            if (selection.Contains("bundled") || selection.Contains(name)) chosen[name] = path;
        foreach (var (name, path) in user)
            if (selection.Contains("user") || selection.Contains(name)) chosen[name] = path;
        var failures = new List<string>();
        var filters = new List<WasmFilterInfo>();
        foreach (var (name, path) in chosen)
            if (LoadInfo(name, path, failures) is { } info) filters.Add(info);
        if (failures.Count > 0)
            throw new WasmStartupException("\nFailed to load metadata for one or more filters:\n" + string.Join("\n", failures) + "\n");
        return new WasmFilterCatalog(true, filters);
    }

    /// <summary>Top level only; regular files (symlinks followed) whose lower-cased extension is <c>.wasm</c>.</summary>
    internal static List<(string Name, string Path)> Scan(string directory)
    {
        if (!Directory.Exists(directory)) return [];
        var found = new List<(string, string)>();
        foreach (var path in Directory.EnumerateFileSystemEntries(directory))
        {
            if (!File.Exists(path)) continue;
            var file = System.IO.Path.GetFileName(path);
            if (!System.IO.Path.GetExtension(file).Equals(".wasm", StringComparison.OrdinalIgnoreCase)) continue;
            found.Add((file[..^5], path));
        }
        return found;
    }

    private static WasmFilterInfo? LoadInfo(string name, string path, List<string> failures)
    {
        var metaPath = path.EndsWith(".wasm", StringComparison.Ordinal) ? path[..^5] + ".meta.json" : path + ".meta.json";
        JsonObject? meta = null;
        if (Directory.Exists(metaPath)) { failures.Add($"* {name} ({metaPath}) invalid type: path exists but is not a file"); return null; }
        if (File.Exists(metaPath))
        {
            string text;
            try { text = File.ReadAllText(metaPath); }
            catch (IOException e) { failures.Add($"* {name} ({metaPath}) I/O error: {e.Message}"); return null; }
            try { meta = JsonNode.Parse(text) as JsonObject ?? throw new JsonException("expected an object"); }
            catch (JsonException e) { failures.Add($"* {name} ({metaPath}) JSON decode error: {e.Message}"); return null; }
            if (FilterMetadataCheck.Check(meta) is { } invalid)
            { failures.Add($"* {name} ({metaPath}) file contains invalid metadata: {invalid}"); return null; }
        }
        var rootId = meta?["root_id"]?.GetValue<string>() ?? "";
        var vmId = meta?["vm_id"]?.GetValue<string>() ?? "";
        FilterPropertyEncoding.TryParse(meta?[FilterPropertyEncoding.Key], out var encoding);
        if (meta?["config_schema"] is JsonObject schema)
        {
            var json = (JsonObject)schema.DeepClone();
            json["$schema"] = FilterConfigSchema.Draft4;
            return new WasmFilterInfo(name, path)
            {
                Metadata = meta, ConfigSchemaJson = json, HasConfigSchema = true, ConfigSchema = FilterConfigSchema.From(json),
                RootId = rootId, VmId = vmId, PropertyEncoding = encoding,
            };
        }
        return new WasmFilterInfo(name, path)
        {
            Metadata = meta, ConfigSchemaJson = FilterConfigSchema.DefaultJson(), ConfigSchema = FilterConfigSchema.Default,
            RootId = rootId, VmId = vmId, PropertyEncoding = encoding,
        };
    }
}

/// <summary>A wasm setting or filter metadata that stops the gateway from starting.</summary>
public sealed class WasmStartupException(string message) : Exception(message);
