using ProxyWasm.Runtime;

namespace Gatehouse.Wasm;

/// <summary>
/// A running filter entry (one <see cref="FilterPlugin"/> = VMs with this config) shared by every snapshot that
/// uses the same (filter, config). Reference counted: the cache holds one reference while a current snapshot may
/// use it, each request one while it runs; the plugin is disposed when the last reference goes.
/// </summary>
public sealed class SharedFilterPlugin
{
    private int _refs = 1;

    public SharedFilterPlugin(string key, FilterPlugin plugin)
    {
        Key = key;
        Plugin = plugin ?? throw new ArgumentNullException(nameof(plugin));
    }

    public string Key { get; }
    public FilterPlugin Plugin { get; }
    public bool IsDisposed => Volatile.Read(ref _refs) <= 0;

    /// <summary>Takes a reference unless the plugin is already gone.</summary>
    public bool TryAcquire()
    {
        while (true)
        {
            var current = Volatile.Read(ref _refs);
            if (current <= 0) return false;
            if (Interlocked.CompareExchange(ref _refs, current + 1, current) == current) return true;
        }
    }

    public void Release()
    {
        if (Interlocked.Decrement(ref _refs) == 0) Plugin.Dispose();
    }
}
