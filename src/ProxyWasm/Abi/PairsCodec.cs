using System.Buffers;
using System.Buffers.Binary;
using ProxyWasm.Http;

namespace ProxyWasm.Abi;

/// <summary>
/// Serialization of header/trailer/metadata maps (spec §1.4):
/// <c>u32 N | N × (u32 key_len, u32 value_len) | N × (key \0 value \0)</c>, little-endian.
/// Parsing follows cpp-host <c>PairsUtil::toPairs</c>: caps on size and count, exact lengths, NUL terminators,
/// no trailing bytes; the empty encodings (size 0, one NUL byte, <c>00 00 00 00</c>) are accepted.
/// Keys and values are byte strings (<see cref="HeaderBytes"/>): one byte per char, both ways.
/// </summary>
internal static class PairsCodec
{
    /// <summary>Serialized size of <paramref name="pairs"/>.</summary>
    public static int SizeOf(IEnumerable<KeyValuePair<string, string>> pairs)
    {
        int size = 4;
        foreach (var p in pairs) size += 8 + p.Key.Length + 1 + p.Value.Length + 1;
        return size;
    }

    /// <summary>Serializes into a pooled buffer; the caller returns it with <see cref="ArrayPool{T}.Shared"/>. Empty maps yield length 0.</summary>
    public static byte[] Serialize(IEnumerable<KeyValuePair<string, string>> pairs, int count, out int length)
    {
        if (count == 0) { length = 0; return []; }
        length = SizeOf(pairs);
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        Write(pairs, count, buffer.AsSpan(0, length));
        return buffer;
    }

    /// <summary>Serializes into a new exact-size array (tests, properties).</summary>
    public static byte[] ToArray(IReadOnlyCollection<KeyValuePair<string, string>> pairs)
    {
        if (pairs.Count == 0) return [];
        var data = new byte[SizeOf(pairs)];
        Write(pairs, pairs.Count, data);
        return data;
    }

    private static void Write(IEnumerable<KeyValuePair<string, string>> pairs, int count, Span<byte> dest)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(dest, (uint)count);
        int header = 4;
        int data = 4 + 8 * count;
        foreach (var p in pairs) WriteEntry(p, dest, ref header, ref data);
    }

    private static void WriteEntry(KeyValuePair<string, string> p, Span<byte> dest, ref int header, ref int data)
    {
        int k = HeaderBytes.Write(p.Key, dest[data..]);
        dest[data + k] = 0;
        data += k + 1;
        int v = HeaderBytes.Write(p.Value, dest[data..]);
        dest[data + v] = 0;
        data += v + 1;
        BinaryPrimitives.WriteUInt32LittleEndian(dest[header..], (uint)k);
        BinaryPrimitives.WriteUInt32LittleEndian(dest[(header + 4)..], (uint)v);
        header += 8;
    }

    /// <summary>Parses serialized pairs; false for any malformed input (nothing is added then).</summary>
    public static bool TryParse(ReadOnlySpan<byte> data, int maxBytes, int maxCount, List<KeyValuePair<string, string>> into)
    {
        if (data.Length == 0 || (data.Length == 1 && data[0] == 0)) return true;
        if (data.Length > maxBytes || data.Length < 4) return false;
        uint n = BinaryPrimitives.ReadUInt32LittleEndian(data);
        if (n > (uint)maxCount) return false;
        long pos = 4 + 8L * n;
        if (pos > data.Length) return false;
        int start = into.Count;
        for (int i = 0; i < n; i++)
        {
            uint kl = BinaryPrimitives.ReadUInt32LittleEndian(data[(4 + 8 * i)..]);
            uint vl = BinaryPrimitives.ReadUInt32LittleEndian(data[(8 + 8 * i)..]);
            if (pos + kl + 1 + vl + 1 > data.Length || data[(int)(pos + kl)] != 0 || data[(int)(pos + kl + 1 + vl)] != 0)
            {
                into.RemoveRange(start, into.Count - start);
                return false;
            }
            var key = HeaderBytes.Read(data.Slice((int)pos, (int)kl));
            var value = HeaderBytes.Read(data.Slice((int)(pos + kl + 1), (int)vl));
            into.Add(KeyValuePair.Create(key, value));
            pos += kl + 1 + vl + 1;
        }
        if (pos != data.Length)
        {
            into.RemoveRange(start, into.Count - start);
            return false;
        }
        return true;
    }

    /// <summary>Serialized size of a non-empty map (0 for an empty one, which serializes to nothing).</summary>
    public static int SizeOf(IHeaderMap map)
    {
        if (map is not HeaderMap list)
        {
            var enumerated = SizeOf((IEnumerable<KeyValuePair<string, string>>)map);
            return enumerated == 4 ? 0 : enumerated; // no pairs: nothing, as for an empty HeaderMap
        }
        if (map.Count == 0) return 0;
        int size = 4;
        foreach (var p in list.Entries) size += 8 + p.Key.Length + 1 + p.Value.Length + 1;
        return size;
    }

    /// <summary>
    /// Writes a non-empty map into <paramref name="dest"/>, exactly <see cref="SizeOf(IHeaderMap)"/> bytes (e.g. the
    /// guest's allocation). A <see cref="HeaderMap"/> is walked as a span; other maps through their enumerator.
    /// </summary>
    public static void Write(IHeaderMap map, Span<byte> dest)
    {
        if (map is not HeaderMap list)
        {
            // an adapter's Count may lag edits made behind its back: count the pairs that will be written
            int count = 0;
            foreach (var _ in map) count++;
            Write(map, count, dest);
            return;
        }
        var entries = list.Entries;
        BinaryPrimitives.WriteUInt32LittleEndian(dest, (uint)entries.Length);
        int header = 4;
        int data = 4 + 8 * entries.Length;
        foreach (var p in entries) WriteEntry(p, dest, ref header, ref data);
    }
}
