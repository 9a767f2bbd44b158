namespace ProxyWasm.Http;

/// <summary>
/// An ordered, multi-valued header (or trailer) map the embedder exposes to a filter. Names compare
/// case-insensitively; pseudo-headers (<c>:method</c>, <c>:path</c>, <c>:authority</c>, <c>:scheme</c>,
/// <c>:status</c>) are ordinary entries. Only called while the owning VM runs a callback, never concurrently.
/// </summary>
public interface IHeaderMap : IEnumerable<KeyValuePair<string, string>>
{
    /// <summary>
    /// True once the map can no longer change, e.g. response headers after they were sent to the client: every
    /// write host call then answers <c>BadArgument</c> instead of failing the filter (ngx: "headers already sent").
    /// </summary>
    bool IsReadOnly => false;

    /// <summary>Number of entries (a multi-valued header counts once per value).</summary>
    int Count { get; }

    /// <summary>First value of <paramref name="name"/>.</summary>
    bool TryGetValue(string name, out string value);

    /// <summary>Appends an entry (duplicates allowed).</summary>
    void Add(string name, string value);

    /// <summary>Removes every entry of <paramref name="name"/> then adds one.</summary>
    void Replace(string name, string value);

    /// <summary>Removes every entry of <paramref name="name"/>; no-op when absent.</summary>
    void Remove(string name);

    /// <summary>Removes every entry.</summary>
    void Clear();
}
