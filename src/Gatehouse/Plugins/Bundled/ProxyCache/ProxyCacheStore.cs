using System.Collections.Concurrent;

namespace Gatehouse.Plugins.Bundled.ProxyCache;

/// <summary>
/// proxy-cache's <c>memory</c> strategy: Kong's <c>kong_db_cache</c> shared dict, a fixed number of bytes
/// (<c>mem_cache_size</c>, default 128 MiB) from which the least recently used entries are evicted when a new one does
/// not fit, and entries expire after their storage TTL. A singleton so the cache survives configuration changes, as
/// Kong's shared dict does. Reads take no lock (they stamp the entry's last use); only a store that must evict takes
/// the eviction lock.
/// </summary>
public sealed class ProxyCacheStore
{
    /// <summary>Kong's <c>mem_cache_size</c> default (the <c>kong_db_cache</c> dictionary's size).</summary>
    public const long DefaultCapacity = 128L * 1024 * 1024;
    /// <summary>What an entry costs beyond its bytes (record, key, dictionary slot): a rough figure, as nginx's
    /// slab overhead is.</summary>
    private const long EntryOverhead = 256;

    private readonly ConcurrentDictionary<string, Slot> _entries = new(StringComparer.Ordinal);
    private readonly Lock _evicting = new();
    private long _bytes;
    private long _clock;

    public ProxyCacheStore(long capacityBytes = DefaultCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacityBytes);
        Capacity = capacityBytes;
    }

    /// <summary>The bound, in bytes.</summary>
    public long Capacity { get; }
    /// <summary>What the stored entries cost now, in bytes (never above <see cref="Capacity"/> once a store returns).</summary>
    public long Bytes => Interlocked.Read(ref _bytes);
    public int Count => _entries.Count;

    public CachedResponse? Get(string key, long now)
    {
        if (!_entries.TryGetValue(key, out var slot)) return null;
        if (slot.Response.ExpiresAt > now)
        {
            Volatile.Write(ref slot.LastUsed, Interlocked.Increment(ref _clock));
            return slot.Response;
        }
        Remove(key, slot);
        return null;
    }

    /// <summary>Stores <paramref name="response"/>, evicting expired and then least recently used entries until it
    /// fits; false when it is larger than the whole store (Kong: the dict's "no memory").</summary>
    public bool Set(string key, CachedResponse response, long now)
    {
        ArgumentNullException.ThrowIfNull(response);
        var size = SizeOf(key, response);
        if (size > Capacity) return false;
        var slot = new Slot(response, size) { LastUsed = Interlocked.Increment(ref _clock) };
        while (true) // replace or add, accounting exactly once for what was replaced
        {
            if (_entries.TryGetValue(key, out var old))
            {
                if (!_entries.TryUpdate(key, slot, old)) continue;
                Interlocked.Add(ref _bytes, size - old.Size);
                break;
            }
            if (!_entries.TryAdd(key, slot)) continue;
            Interlocked.Add(ref _bytes, size);
            break;
        }
        if (Bytes > Capacity) Evict(key, now);
        return true;
    }

    /// <summary>Admin purge (all entries).</summary>
    public void Clear()
    {
        foreach (var (key, slot) in _entries) Remove(key, slot);
    }

    private void Evict(string keep, long now)
    {
        lock (_evicting)
        {
            if (Bytes <= Capacity) return;
            var candidates = _entries.Where(e => e.Key != keep).ToList();
            foreach (var (key, slot) in candidates)
                if (slot.Response.ExpiresAt <= now) Remove(key, slot);
            foreach (var (key, slot) in candidates.Where(c => c.Value.Response.ExpiresAt > now).OrderBy(c => Volatile.Read(ref c.Value.LastUsed)))
            {
                if (Bytes <= Capacity) return;
                Remove(key, slot);
            }
        }
    }

    private void Remove(string key, Slot slot)
    {
        if (_entries.TryRemove(new KeyValuePair<string, Slot>(key, slot))) Interlocked.Add(ref _bytes, -slot.Size);
    }

    private static long SizeOf(string key, CachedResponse response)
    {
        long size = EntryOverhead + key.Length * 2L + response.Body.Length;
        foreach (var (name, value) in response.Headers) size += (name.Length + value.Length) * 2L;
        return size;
    }

    private sealed class Slot(CachedResponse response, long size)
    {
        public long LastUsed;
        public CachedResponse Response { get; } = response;
        public long Size { get; } = size;
    }
}

/// <summary>One stored response: stored at <see cref="StoredAt"/>, fresh for <see cref="Ttl"/> seconds (the
/// resource's TTL), kept until <see cref="ExpiresAt"/> (the storage TTL, which may be longer).</summary>
public sealed record CachedResponse(int Status, IReadOnlyList<KeyValuePair<string, string>> Headers, byte[] Body, long StoredAt, long Ttl, long ExpiresAt);
