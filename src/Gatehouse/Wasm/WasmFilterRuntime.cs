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
    private readonly Dictionary<string, FilterModule> _modules = new(StringComparer.Ordinal);
    private readonly GatewayHttpCallDispatcher? _dispatcher;

    public WasmFilterRuntime(WasmFilterCatalog catalog, ILoggerFactory loggerFactory, GatehouseOptions options, GatewayConfigPublisher publisher)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(publisher);
        Catalog = catalog;
        if (!catalog.Enabled) return;
        var cacheDir = Path.Combine(options.Prefix, ".wasmtime_cache");
        _dispatcher = new GatewayHttpCallDispatcher(publisher);
        Host = new WasmHost(new WasmHostOptions
        {
            LoggerFactory = loggerFactory, CompiledCacheDirectory = TryCreate(cacheDir), HttpCallDispatcher = _dispatcher,
        });
        foreach (var filter in catalog.Filters)
        {
            try { _modules[filter.Name] = Host.LoadModule(filter.Name, filter.Path); }
            catch (ModuleLoadException e)
            {
                Dispose();
                throw new WasmStartupException($"failed loading wasm filter '{filter.Name}' ({filter.Path}): {e.Message}");
            }
        }
        Plugins = new FilterPluginCache(Host, _modules, loggerFactory.CreateLogger<FilterPluginCache>());
    }

    public WasmFilterCatalog Catalog { get; }
    /// <summary>Null while wasm is not enabled.</summary>
    public WasmHost? Host { get; }
    public FilterPluginCache? Plugins { get; }
    public IReadOnlyDictionary<string, FilterModule> Modules => _modules;

    /// <summary>Runs the filter's <c>proxy_on_configure</c> (and <c>proxy_validate_configuration</c> when exported)
    /// on <paramref name="configuration"/> in a scratch VM; the rejection reason, or null when accepted.</summary>
    public string? CheckConfiguration(string filter, string configuration)
    {
        if (Host is null || !_modules.TryGetValue(filter, out var module)) return null;
        var result = Host.Validate(module, System.Text.Encoding.UTF8.GetBytes(configuration));
        return result.Success ? null : $"filter rejected its configuration ({result.Stage}): {result.Error}";
    }

    public void Dispose()
    {
        Plugins?.Dispose();
        foreach (var m in _modules.Values) m.Dispose();
        _modules.Clear();
        Host?.Dispose();
        _dispatcher?.Dispose();
    }

    private static string? TryCreate(string dir)
    {
        try { Directory.CreateDirectory(dir); return dir; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }
}
