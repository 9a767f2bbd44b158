using System.Collections;

namespace ProxyWasm.Http;

/// <summary>Simple list-backed <see cref="IHeaderMap"/> for tests and embedders that copy headers in and out.</summary>
public sealed class HeaderMap : IHeaderMap
{
    private readonly List<KeyValuePair<string, string>> _entries = [];

    /// <summary>Creates an empty map.</summary>
    public HeaderMap() { }

    /// <summary>Creates a map holding <paramref name="entries"/> in order.</summary>
    public HeaderMap(IEnumerable<KeyValuePair<string, string>> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        _entries.AddRange(entries);
    }

    /// <summary>Creates a map from (name, value) tuples, convenient in tests.</summary>
    public static HeaderMap Of(params (string Name, string Value)[] entries)
        => new(entries.Select(e => KeyValuePair.Create(e.Name, e.Value)));

    /// <inheritdoc />
    public int Count => _entries.Count;

    /// <summary>The entries in order, for the host's allocation-free serialization (valid until the next change).</summary>
    internal ReadOnlySpan<KeyValuePair<string, string>> Entries => System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_entries);

    /// <inheritdoc />
    public bool TryGetValue(string name, out string value)
    {
        foreach (var e in _entries)
        {
            if (string.Equals(e.Key, name, StringComparison.OrdinalIgnoreCase)) { value = e.Value; return true; }
        }
        value = "";
        return false;
    }

    /// <summary>All values of <paramref name="name"/> in order.</summary>
    public IReadOnlyList<string> GetValues(string name)
        => _entries.Where(e => string.Equals(e.Key, name, StringComparison.OrdinalIgnoreCase)).Select(e => e.Value).ToList();

    /// <inheritdoc />
    public void Add(string name, string value) => _entries.Add(KeyValuePair.Create(name, value));

    /// <inheritdoc />
    public void Replace(string name, string value)
    {
        Remove(name);
        Add(name, value);
    }

    /// <inheritdoc />
    public void Remove(string name)
    {
        int kept = 0;
        for (int i = 0; i < _entries.Count; i++)
        {
            var e = _entries[i];
            if (string.Equals(e.Key, name, StringComparison.OrdinalIgnoreCase)) continue;
            if (kept != i) _entries[kept] = e;
            kept++;
        }
        if (kept < _entries.Count) _entries.RemoveRange(kept, _entries.Count - kept);
    }

    /// <inheritdoc />
    public void Clear() => _entries.Clear();

    /// <inheritdoc />
    public IEnumerator<KeyValuePair<string, string>> GetEnumerator() => _entries.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
