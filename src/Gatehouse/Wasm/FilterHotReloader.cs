using Gatehouse.Model;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Wasm;

/// <summary>
/// Hot reload (beyond Kong): watches <c>wasm_filters_path</c>; when an enabled filter's <c>.wasm</c> changes, the
/// runtime compiles it and checks every configuration the current snapshot uses for that filter; on success the
/// configuration is re-published so new requests get plans on the new module (in-flight ones finish on the old).
/// </summary>
internal sealed partial class FilterHotReloader(WasmFilterRuntime runtime, GatewayConfigPublisher publisher, ILogger<FilterHotReloader> logger)
    : IHostedService, IDisposable
{
    private static readonly TimeSpan Debounce = TimeSpan.FromMilliseconds(300);
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Timer> _pending = new(StringComparer.Ordinal);
    private FileSystemWatcher? _watcher;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var dirs = runtime.Catalog.Filters.Select(f => Path.GetDirectoryName(Path.GetFullPath(f.Path))!).Distinct().ToList();
        if (runtime.Host is null || dirs.Count == 0) return Task.CompletedTask;
        Watch(dirs.FirstOrDefault(d => runtime.Catalog.Filters.Any(f => f.Path.StartsWith(d, StringComparison.Ordinal))) ?? dirs[0]);
        return Task.CompletedTask;
    }

    // apart from StartAsync, which every node runs: a node without filters does not load the watcher's assembly
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private void Watch(string dir)
    {
        _watcher = new FileSystemWatcher(dir, "*.wasm") { NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.FileName | NotifyFilters.Size };
        _watcher.Changed += (_, e) => Schedule(e.FullPath);
        _watcher.Created += (_, e) => Schedule(e.FullPath);
        _watcher.Renamed += (_, e) => Schedule(e.FullPath);
        _watcher.EnableRaisingEvents = true;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    private void Schedule(string path)
    {
        var filter = runtime.Catalog.Filters.FirstOrDefault(f => Path.GetFullPath(f.Path) == Path.GetFullPath(path));
        if (filter is null) return;
        lock (_gate)
        {
            if (_pending.Remove(filter.Name, out var old)) old.Dispose();
            _pending[filter.Name] = new Timer(_ => Reload(filter.Name, filter.Path), null, Debounce, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Reloads now (also used by tests through the file watcher).</summary>
    internal void Reload(string filter, string path)
    {
        var current = publisher.Current;
        var configs = current.FilterChains.SelectMany(c => c.Filters).Where(f => f.Enabled && f.Name == filter).Select(f => f.Configuration)
            .Concat(current.Plugins.Where(p => p.Enabled && p.Name == filter).Select(p => Entities.Schemas.FilterChainEntity.Serialize(p.RawConfig)));
        var error = runtime.TryReload(filter, path, configs);
        if (error is not null) { LogRefused(logger, filter, error); return; }
        LogReloaded(logger, filter);
        var latest = publisher.Current;
        publisher.Publish(latest with { Version = latest.Version + 1 });
    }

    public void Dispose()
    {
        _watcher?.Dispose();
        _watcher = null;
        lock (_gate)
        {
            foreach (var t in _pending.Values) t.Dispose();
            _pending.Clear();
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "hot reload of wasm filter '{Filter}' refused, the previous module stays: {Error}")]
    private static partial void LogRefused(ILogger logger, string filter, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "wasm filter '{Filter}' reloaded")]
    private static partial void LogReloaded(ILogger logger, string filter);
}
