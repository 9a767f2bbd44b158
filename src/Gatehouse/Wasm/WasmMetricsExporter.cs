using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using ProxyWasm.Abi;
using ProxyWasm.Runtime;
using ProxyWasm.Shared;

namespace Gatehouse.Wasm;

/// <summary>
/// Exports the Proxy-Wasm host's filter metrics after the prometheus plugin's own families, as Kong 3.9 does
/// (kong-wasm.md §1.2): each metric's key is <c>pw:&lt;filter&gt;:&lt;name&gt;</c>; every
/// <c>metrics.label_patterns</c> entry of the filter's meta.json that matches the key contributes a label (value =
/// capture 2) and the name is cut where the first matching label starts; colons become underscores (as do other
/// characters Prometheus forbids in names, e.g. the <c>-</c> of <c>request-counter</c> — beyond Kong, which would
/// emit an invalid name). Series of one name are grouped under one <c># TYPE</c>, sorted by name.
/// </summary>
public sealed class WasmMetricsExporter
{
    private readonly MetricsRegistry? _registry;
    private readonly WasmFilterRuntime? _runtime;
    private readonly Dictionary<string, (string Label, Regex Pattern)[]> _patterns = new(StringComparer.Ordinal);

    /// <summary>Label patterns are read once: meta.json files are loaded at start only.</summary>
    public WasmMetricsExporter(WasmFilterRuntime? runtime)
    {
        _registry = runtime?.Host?.Metrics;
        _runtime = runtime;
        if (runtime is null) return;
        foreach (var filter in runtime.Catalog.Filters)
            if (filter.Metadata?["metrics"]?["label_patterns"] is JsonArray items)
                _patterns[filter.Name] = [.. items.OfType<JsonObject>().Select(p =>
                    ((string)p["label"]!, LabelPattern.Create((string)p["pattern"]!)))];
    }

    /// <summary>Appends the text exposition of every filter metric (nothing while wasm is off).</summary>
    public async Task WriteAsync(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        if (_registry is null) return;
        var text = Render(_registry.Snapshot()) + RenderHost();
        if (text.Length > 0) await http.Response.WriteAsync(text, http.RequestAborted);
    }

    /// <summary>Gatehouse's own Wasm host figures (docs/metrics.md): VMs and their linear memory per filter now,
    /// callback durations, traps and deadline hits since start.</summary>
    public string RenderHost()
    {
        if (_runtime?.Host is not { } host) return "";
        var sb = new StringBuilder();
        var memory = _runtime.Plugins?.LinearMemoryByFilter() ?? [];
        Family(sb, "gatehouse_wasm_vms", "gauge", "Wasm VMs (instances) of each filter now");
        foreach (var (filter, vms, _) in memory) Line(sb, "gatehouse_wasm_vms", $"filter=\"{Escape(filter)}\"", vms);
        Family(sb, "gatehouse_memory_wasm_linear_bytes", "gauge", "Linear memory bytes of each filter's Wasm VMs now");
        foreach (var (filter, _, bytes) in memory) Line(sb, "gatehouse_memory_wasm_linear_bytes", $"filter=\"{Escape(filter)}\"", bytes);
        var stats = host.FilterStats.All();
        Family(sb, "gatehouse_wasm_traps_total", "counter", "Guest callbacks that failed their VM other than by the deadline (trap, memory limit, exit)");
        foreach (var (filter, s) in stats) Line(sb, "gatehouse_wasm_traps_total", $"filter=\"{Escape(filter)}\"", s.Traps);
        Family(sb, "gatehouse_wasm_deadline_hits_total", "counter", "Guest callbacks stopped by their deadline");
        foreach (var (filter, s) in stats) Line(sb, "gatehouse_wasm_deadline_hits_total", $"filter=\"{Escape(filter)}\"", s.DeadlineHits);
        // FilterStats.FailOpenSkips is not exported: Gatehouse runs every filter fail-closed, so it would always be 0
        const string duration = "gatehouse_wasm_callback_duration_ms";
        Family(sb, duration, "histogram", "Duration of guest callbacks per filter and Proxy-Wasm callback, in milliseconds");
        var bounds = FilterStats.CallbackBucketsMs;
        foreach (var (filter, s) in stats)
        foreach (var (callback, buckets, count, sumMs) in s.Callbacks())
        {
            var labels = $"filter=\"{Escape(filter)}\",callback=\"{Escape(callback)}\"";
            long cumulative = 0;
            for (var i = 0; i < buckets.Length; i++)
            {
                cumulative += buckets[i];
                var le = i < bounds.Count ? bounds[i].ToString(CultureInfo.InvariantCulture) : "+Inf";
                sb.Append(duration).Append("_bucket{").Append(labels).Append(",le=\"").Append(le).Append("\"} ")
                    .Append(cumulative.ToString(CultureInfo.InvariantCulture)).Append('\n');
            }
            sb.Append(duration).Append("_sum{").Append(labels).Append("} ").Append(sumMs.ToString(CultureInfo.InvariantCulture)).Append('\n');
            sb.Append(duration).Append("_count{").Append(labels).Append("} ").Append(count.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
        return sb.ToString();
    }

    private static void Family(StringBuilder sb, string name, string type, string help) =>
        sb.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n').Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');

    private static void Line(StringBuilder sb, string name, string labels, long value) =>
        sb.Append(name).Append('{').Append(labels).Append("} ").Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');

    /// <summary>The exposition text of <paramref name="metrics"/>.</summary>
    public string Render(IReadOnlyList<MetricSnapshot> metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        var families = new SortedDictionary<string, (MetricType Type, List<(string Labels, MetricSnapshot Metric)> Series)>(StringComparer.Ordinal);
        foreach (var m in metrics)
        {
            var (name, labels) = Parse(m.Plugin, $"pw:{m.Plugin}:{m.Name}");
            if (!families.TryGetValue(name, out var family)) families[name] = family = (m.Type, []);
            family.Series.Add((labels, m));
        }
        var sb = new StringBuilder();
        foreach (var (name, (type, series)) in families)
        {
            sb.Append("# HELP ").Append(name).Append('\n');
            sb.Append("# TYPE ").Append(name).Append(' ').Append(TypeName(type)).Append('\n');
            foreach (var (labels, m) in series)
            {
                if (m.Type != MetricType.Histogram)
                {
                    sb.Append(name).Append(Braces(labels)).Append(' ').Append(m.Value.ToString(CultureInfo.InvariantCulture)).Append('\n');
                    continue;
                }
                long cumulative = 0;
                foreach (var (bound, count) in m.Buckets)
                {
                    cumulative += count;
                    var le = bound == ulong.MaxValue ? "+Inf" : bound.ToString(CultureInfo.InvariantCulture);
                    sb.Append(name).Append("_bucket").Append(Braces(labels.Length == 0 ? $"le=\"{le}\"" : $"{labels},le=\"{le}\""))
                        .Append(' ').Append(cumulative.ToString(CultureInfo.InvariantCulture)).Append('\n');
                }
                sb.Append(name).Append("_sum").Append(Braces(labels)).Append(' ').Append(m.Value.ToString(CultureInfo.InvariantCulture)).Append('\n');
                sb.Append(name).Append("_count").Append(Braces(labels)).Append(' ').Append(m.Count.ToString(CultureInfo.InvariantCulture)).Append('\n');
            }
        }
        return sb.ToString();
    }

    private (string Name, string Labels) Parse(string filter, string key)
    {
        var cut = key.Length;
        var labels = new List<string>();
        foreach (var (label, pattern) in _patterns.GetValueOrDefault(filter) ?? [])
        {
            var match = pattern.Match(key);
            if (!match.Success || match.Groups.Count < 3 || !match.Groups[2].Success) continue;
            labels.Add($"{label}=\"{Escape(match.Groups[2].Value)}\"");
            cut = Math.Min(cut, match.Groups[1].Success ? match.Groups[1].Index : match.Index);
        }
        return (SanitizeName(key[..cut]), string.Join(',', labels));
    }

    private static string SanitizeName(string name)
    {
        var chars = name.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
            if (!(char.IsAsciiLetterOrDigit(chars[i]) || chars[i] == '_') || (i == 0 && char.IsAsciiDigit(chars[i]))) chars[i] = '_';
        return new string(chars);
    }

    private static string Escape(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal)
        .Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    private static string Braces(string labels) => labels.Length == 0 ? "" : "{" + labels + "}";

    private static string TypeName(MetricType type) => type switch
    {
        MetricType.Counter => "counter",
        MetricType.Gauge => "gauge",
        _ => "histogram",
    };
}
