using System.Text;
using ProxyWasm.Http;

namespace ProxyWasm.Abi;

/// <summary>
/// Intern table for header names a guest passes to host calls: the names a filter uses are few and repeat on
/// every request, so a lookup by the decoded characters returns the same string instance instead of
/// allocating one per call. One per VM (used under its gate, no locking); bounded, so a guest inventing names
/// only stops benefiting — later names are decoded normally.
/// </summary>
internal sealed class NameCache
{
    private const int MaxEntries = 256;
    private const int MaxLength = 64;
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> _lookup;

    public NameCache() => _lookup = _names.GetAlternateLookup<ReadOnlySpan<char>>();

    public int Count => _names.Count;

    /// <summary>The header name for <paramref name="bytes"/>, one char per byte (<see cref="HeaderBytes"/>).</summary>
    public string Get(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty) return "";
        if (bytes.Length > MaxLength) return HeaderBytes.Read(bytes);
        Span<char> buffer = stackalloc char[MaxLength];
        var chars = buffer[..Encoding.Latin1.GetChars(bytes, buffer)];
        if (_lookup.TryGetValue(chars, out var name)) return name;
        name = new string(chars);
        if (_names.Count < MaxEntries) _names.Add(name);
        return name;
    }
}
