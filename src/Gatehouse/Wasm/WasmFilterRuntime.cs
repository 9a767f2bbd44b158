using System.Collections.Immutable;
using Gatehouse.Config;
using Gatehouse.Model;
using Microsoft.Extensions.Logging;
using ProxyWasm.Runtime;

namespace Gatehouse.Wasm;

/// <summary>
/// The process-wide Proxy-Wasm host (DI singleton, disposed at shutdown): every enabled filter compiled once at
/// start, plus the cache of running filter entries shared between configuration snapshots.
/// </summary>
public sealed class WasmFilterRuntime : IDisposable
{
    private readonly List<FilterModule> _retired = [];
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> _reloadErrors = new(StringComparer.Ordinal);
    private ImmutableDictionary<string, FilterModule> _modules = ImmutableDictionary.Create<string, FilterModule>(StringComparer.Ordinal);
    private readonly GatewayHttpCallDispatcher? _dispatcher;
    private readonly int _contextsPerVm;
    private readonly int _maxVms;

    public WasmFilterRuntime(WasmFilterCatalog catalog, ILoggerFactory loggerFactory, GatehouseOptions options, GatewayConfigPublisher publisher)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(publisher);
        Catalog = catalog;
        _contextsPerVm = options.WasmContextsPerVm;
        _maxVms = options.WasmMaxVmsPerFilter;
        if (!catalog.Enabled) return;
        var cacheDir = Path.Combine(options.Prefix, ".wasmtime_cache");
        _dispatcher = new GatewayHttpCallDispatcher(publisher);
        Host = new WasmHost(new WasmHostOptions
        {
            LoggerFactory = loggerFactory, CompiledCacheDirectory = TryCreate(cacheDir), HttpCallDispatcher = _dispatcher,
        });
        foreach (var filter in catalog.Filters)
        {
            try { _modules = _modules.SetItem(filter.Name, Host.LoadModule(filter.Name, filter.Path)); }
            catch (ModuleLoadException e)
            {
                Dispose();
                throw new WasmStartupException($"failed loading wasm filter '{filter.Name}' ({filter.Path}): {e.Message}");
            }
        }
        Plugins = new FilterPluginCache(Host, () => Modules, PluginConfig, loggerFactory.CreateLogger<FilterPluginCache>());
    }

    public WasmFilterCatalog Catalog { get; }
    /// <summary>Null while wasm is not enabled.</summary>
    public WasmHost? Host { get; }
    public FilterPluginCache? Plugins { get; }
    /// <summary>The current compiled module of each filter (swapped atomically by hot reload).</summary>
    public IReadOnlyDictionary<string, FilterModule> Modules => Volatile.Read(ref _modules);

    /// <summary>The last hot-reload failure of a filter, if its newest file was refused.</summary>
    public string? ReloadError(string filter) => _reloadErrors.GetValueOrDefault(filter);

    /// <summary>Every filter's recent hot-reload attempts (accepted and refused).</summary>
    public FilterReloadHistory ReloadHistory { get; } = new(TimeProvider.System);

    /// <summary>
    /// Hot reload (beyond Kong): compiles <paramref name="path"/> and, when every enabled config of
    /// <paramref name="inUse"/> passes the new module's own validation, makes it the filter's module for plans
    /// built from now on. Otherwise the old module stays and the error is kept for <c>GET /filters</c>.
    /// Replaced modules are kept until shutdown (running entries still use them).
    /// </summary>
    public string? TryReload(string filter, string path, IEnumerable<string> inUse)
    {
        if (Host is null || !Modules.ContainsKey(filter)) return "not an enabled filter";
        FilterModule candidate;
        try { candidate = Host.LoadModule(filter, path); }
        catch (ModuleLoadException e) { return Refuse(filter, null, "compile failed: " + e.Message); }
        var previousHash = Modules[filter].Hash;
        if (candidate.Hash == previousHash) { candidate.Dispose(); return null; }
        foreach (var config in inUse.Distinct(StringComparer.Ordinal))
        {
            var result = Host.Validate(candidate, PluginConfig(filter, config));
            if (!result.Success) return Refuse(filter, candidate, $"a configuration in use was rejected ({result.Stage}): {result.Error}");
        }
        lock (_retired)
        {
            _retired.Add(Modules[filter]);
            Volatile.Write(ref _modules, Modules.ToImmutableDictionary(StringComparer.Ordinal).SetItem(filter, candidate));
        }
        _reloadErrors.TryRemove(filter, out _);
        ReloadHistory.Record(filter, accepted: true, previousHash, candidate.Hash, error: null);
        return null;
    }

    private string Refuse(string filter, FilterModule? candidate, string error)
    {
        ReloadHistory.Record(filter, accepted: false, Modules[filter].Hash, candidate?.Hash, error);
        candidate?.Dispose();
        _reloadErrors[filter] = error;
        return error;
    }

    /// <summary>Runs the filter's <c>proxy_on_configure</c> (and <c>proxy_validate_configuration</c> when exported)
    /// on <paramref name="configuration"/> in a scratch VM; the rejection reason, or null when accepted.</summary>
    public string? CheckConfiguration(string filter, string configuration)
    {
        if (Host is null || !Modules.TryGetValue(filter, out var module)) return null;
        var result = Host.Validate(module, PluginConfig(filter, configuration));
        if (result.Success) return null;
        var error = $"filter rejected its configuration ({result.Stage}): {result.Error}";
        // SDK filters (AssemblyScript, C++) look their root context up by plugin_root_id while the root context is
        // created; an Envoy filter registered under a name fails exactly there when meta.json does not name it
        if (result.Stage == "on_context_create")
            error += $" (the filter ran under root_id \"{Catalog.ByName(filter)?.RootId}\"; a filter built for Envoy may register its root"
                     + $" context under a name: set \"root_id\" in {filter}.meta.json)";
        return error;
    }

    /// <summary>The identity and configuration a VM of <paramref name="filter"/> starts with: its name, the
    /// meta.json <c>root_id</c>/<c>vm_id</c> (Gatehouse extension, Envoy's fields), its <c>property_encoding</c>, and the config bytes.</summary>
    internal FilterPluginConfig PluginConfig(string filter, string configuration)
    {
        var info = Catalog.ByName(filter);
        return new FilterPluginConfig
        {
            Name = filter,
            RootId = info?.RootId ?? "",
            VmId = info?.VmId ?? "",
            PropertyEncoding = info?.PropertyEncoding ?? PropertyEncoding.Binary,
            Configuration = System.Text.Encoding.UTF8.GetBytes(configuration),
            ContextsPerVm = _contextsPerVm,
            MaxPoolSize = _maxVms,
        };
    }

    public void Dispose()
    {
        Plugins?.Dispose();
        foreach (var m in Modules.Values) m.Dispose();
        lock (_retired) { foreach (var m in _retired) m.Dispose(); _retired.Clear(); }
        _modules = _modules.Clear();
        Host?.Dispose();
        _dispatcher?.Dispose();
    }

    private static string? TryCreate(string dir)
    {
        try { Directory.CreateDirectory(dir); return dir; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }
}
