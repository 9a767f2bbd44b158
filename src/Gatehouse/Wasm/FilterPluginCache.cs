using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using ProxyWasm.Runtime;

namespace Gatehouse.Wasm;

/// <summary>
/// Reuses running filter entries across configuration snapshots (Kong §5.5: an unchanged (filter, config) keeps
/// its VMs and is not configured again). Entries not used by snapshot N are released when snapshot N+1 starts
/// compiling, so requests still running on snapshot N-1 keep theirs (they hold their own reference).
/// Called only from plan compilation (one publishing thread at a time; guarded by a lock anyway).
/// </summary>
public sealed class FilterPluginCache : IDisposable
{
    private readonly WasmHost _host;
    private readonly Func<IReadOnlyDictionary<string, FilterModule>> _modules;
    private readonly Func<string, string, FilterPluginConfig> _configOf;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private Dictionary<string, SharedFilterPlugin> _current = new(StringComparer.Ordinal);
    private Dictionary<string, SharedFilterPlugin> _previous = new(StringComparer.Ordinal);
    private Dictionary<Guid, SharedFilterPlugin[]> _goodCurrent = [];
    private Dictionary<Guid, SharedFilterPlugin[]> _goodPrevious = [];
    private long _version = long.MinValue;

    internal FilterPluginCache(WasmHost host, Func<IReadOnlyDictionary<string, FilterModule>> modules,
        Func<string, string, FilterPluginConfig> configOf, ILogger logger)
    {
        _host = host;
        _modules = modules;
        _configOf = configOf;
        _logger = logger;
    }

    /// <summary>VMs each filter entry keeps live: one per core, at most four (more only under <c>wasm_contexts_per_vm</c>).</summary>
    internal static int PoolSize { get; } = Math.Max(1, Math.Min(Environment.ProcessorCount, 4));

    /// <summary>Number of plugins created so far (diagnostics and tests: reuse means this does not grow).</summary>
    public int Created { get; private set; }

    /// <summary>Kong's per-filter hash (name, sha256 of the config) plus the module's hash, so a hot-reloaded
    /// module gets fresh entries.</summary>
    public static string KeyOf(string filter, string moduleHash, string configuration) =>
        filter + ":" + moduleHash + ":" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(configuration)));

    /// <summary>The running entry for (filter, config) in the snapshot <paramref name="version"/>; throws
    /// <see cref="FilterConfigurationException"/> when the filter rejects the config.</summary>
    public SharedFilterPlugin Get(string filter, string configuration, long version)
    {
        lock (_gate)
        {
            if (version != _version) NextGeneration(version);
            var module = _modules()[filter];
            var key = KeyOf(filter, module.Hash, configuration);
            if (_current.TryGetValue(key, out var plugin)) return plugin;
            if (_previous.Remove(key, out plugin)) { _current[key] = plugin; return plugin; }
            var created = _host.CreatePlugin(module, _configOf(filter, configuration) with
            {
                PoolSize = PoolSize,
            });
            Created++;
            plugin = new SharedFilterPlugin(key, created);
            _current[key] = plugin;
            return plugin;
        }
    }

    /// <summary>Linear memory of the running filter plugins' VMs, by filter name (<c>GET /status</c>).</summary>
    public IReadOnlyList<(string Filter, int Vms, long Bytes)> LinearMemoryByFilter()
    {
        SharedFilterPlugin[] plugins;
        lock (_gate) plugins = [.. _current.Values, .. _previous.Values];
        return [.. plugins.Select(p => (p.Plugin.Config.Name, Memory: p.Plugin.LinearMemory()))
            .GroupBy(p => p.Name, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => (g.Key, g.Sum(p => p.Memory.Vms), g.Sum(p => p.Memory.Bytes)))];
    }

    /// <summary>Remembers the chain built for <paramref name="routeId"/> in the current snapshot, so the next snapshot
    /// can fall back on it (<see cref="KeepLastGood"/>).</summary>
    public void RecordGood(Guid routeId, IReadOnlyList<SharedFilterPlugin> chain)
    {
        lock (_gate) _goodCurrent[routeId] = [.. chain];
    }

    /// <summary>Kong's "last good state wins" (§5.4): when the route's new chain cannot be built (a filter rejects
    /// its config or traps in configure), the chain the previous snapshot ran for that route is carried into the
    /// current one (its entries are kept alive). Null when the route had no good chain in the previous snapshot.</summary>
    public IReadOnlyList<SharedFilterPlugin>? KeepLastGood(Guid routeId)
    {
        lock (_gate)
        {
            if (!_goodPrevious.TryGetValue(routeId, out var chain)) return null;
            foreach (var plugin in chain)
            {
                if (_current.ContainsKey(plugin.Key)) continue;
                if (!_previous.Remove(plugin.Key, out var kept)) return null;
                _current[plugin.Key] = kept;
            }
            _goodCurrent[routeId] = chain;
            return chain;
        }
    }

    private void NextGeneration(long version)
    {
        _goodPrevious = _goodCurrent;
        _goodCurrent = [];
        foreach (var stale in _previous.Values) stale.Release();
        if (_previous.Count > 0) WasmLog.PluginsRetired(_logger, _previous.Count);
        _previous = _current;
        _current = new Dictionary<string, SharedFilterPlugin>(StringComparer.Ordinal);
        _version = version;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var p in _previous.Values.Concat(_current.Values)) p.Release();
            _previous.Clear();
            _current.Clear();
        }
    }
}
