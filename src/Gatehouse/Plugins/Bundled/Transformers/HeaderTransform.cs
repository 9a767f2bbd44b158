using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using ProxyWasm.Http;

namespace Gatehouse.Plugins.Bundled.Transformers;

/// <summary>Applies a <see cref="TransformSpec"/> to a header (or query) collection in Kong's order:
/// remove, rename, replace (only existing), add (only missing), append. Configured header values are text and go
/// out as their UTF-8 bytes (header values are byte strings, <see cref="ProxyWasm.Http.HeaderBytes"/>).</summary>
internal static class HeaderTransform
{
    public static void Apply(TransformSpec spec, IHeaderDictionary headers)
    {
        foreach (var name in spec.Remove) headers.Remove(name);
        foreach (var (from, to) in spec.Rename)
            if (headers.TryGetValue(from, out var v)) { headers.Remove(from); headers[to] = v; }
        foreach (var (name, value) in spec.Replace)
            if (headers.ContainsKey(name)) headers[name] = HeaderBytes.FromText(value);
        foreach (var (name, value) in spec.Add)
            if (!headers.ContainsKey(name)) headers[name] = HeaderBytes.FromText(value);
        foreach (var (name, value) in spec.Append)
            headers[name] = headers.TryGetValue(name, out var existing)
                ? StringValues.Concat(existing, HeaderBytes.FromText(value)) : HeaderBytes.FromText(value);
    }

    public static QueryString Apply(TransformSpec spec, IQueryCollection query)
    {
        var map = query.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        foreach (var name in spec.Remove) map.Remove(name);
        foreach (var (from, to) in spec.Rename)
            if (map.Remove(from, out var v)) map[to] = v;
        foreach (var (name, value) in spec.Replace)
            if (map.ContainsKey(name)) map[name] = value;
        foreach (var (name, value) in spec.Add)
            map.TryAdd(name, value);
        foreach (var (name, value) in spec.Append)
            map[name] = map.TryGetValue(name, out var existing) ? StringValues.Concat(existing, value) : value;
        return QueryString.Create(map.SelectMany(p => p.Value.Select(v => new KeyValuePair<string, string?>(p.Key, v))));
    }
}
