using System.Collections.Concurrent;

namespace Gatehouse.Plugins.Bundled.ProxyCache;

/// <summary>proxy-cache's <c>memory</c> strategy: cached responses by key, expiring after their TTL. A singleton
/// so the cache survives configuration changes, as Kong's shared dict does.</summary>
public sealed class ProxyCacheStore
{
    private readonly ConcurrentDictionary<string, CachedResponse> _entries = new(StringComparer.Ordinal);

    public CachedResponse? Get(string key, long now)
    {
        if (!_entries.TryGetValue(key, out var entry)) return null;
        if (entry.ExpiresAt > now) return entry;
        _entries.TryRemove(key, out _);
        return null;
    }

    public void Set(string key, CachedResponse response) => _entries[key] = response;

    /// <summary>Admin purge (all entries).</summary>
    public void Clear() => _entries.Clear();
}

/// <summary>One stored response.</summary>
public sealed record CachedResponse(int Status, IReadOnlyList<KeyValuePair<string, string>> Headers, byte[] Body, long StoredAt, long ExpiresAt);
