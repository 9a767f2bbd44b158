using System.Text;

namespace Gatehouse.Plugins.Bodies;

/// <summary>
/// A <c>multipart/form-data</c> body as Kong's lua-multipart library models it: an ordered list of parts, each with
/// its header lines kept verbatim and its value; lookups by name see the last part of that name. Serialising writes
/// the parts back with the request's boundary (preamble and epilogue dropped), so untouched parts — files included —
/// reach the upstream byte for byte.
/// </summary>
public sealed class MultipartBody
{
    private readonly List<Part> _parts;

    private MultipartBody(string boundary, List<Part> parts, bool wellFormed)
    {
        Boundary = boundary;
        _parts = parts;
        WellFormed = wellFormed;
    }

    public string Boundary { get; }
    public IReadOnlyList<Part> Parts => _parts;

    /// <summary>False when the body does not end with the closing delimiter or a part's headers do not end with an
    /// empty line. lua-multipart (the plugins) reads such a body as far as it goes; the Admin API refuses it.</summary>
    public bool WellFormed { get; }

    /// <summary>The boundary parameter of a multipart Content-Type (quotes removed), or null.</summary>
    public static string? BoundaryOf(string contentType)
    {
        ArgumentNullException.ThrowIfNull(contentType);
        var at = contentType.IndexOf("boundary=", StringComparison.OrdinalIgnoreCase);
        if (at < 0) return null;
        var value = contentType[(at + 9)..];
        var end = value.IndexOf(';', StringComparison.Ordinal);
        value = (end < 0 ? value : value[..end]).Trim();
        if (value.Length >= 2 && (value[0] == '"' || value[0] == '\'') && value[^1] == value[0]) value = value[1..^1];
        return value.Length == 0 ? null : value;
    }

    /// <summary>Splits <paramref name="raw"/> on its boundary; null when the Content-Type has none.</summary>
    public static MultipartBody? Parse(ReadOnlySpan<byte> raw, string contentType)
    {
        if (BoundaryOf(contentType) is not { } boundary) return null;
        var delimiter = Encoding.ASCII.GetBytes("--" + boundary);
        var parts = new List<Part>();
        var start = raw.IndexOf(delimiter);
        if (start < 0 || (start > 0 && !raw[..start].EndsWith("\r\n"u8))) return new MultipartBody(boundary, parts, wellFormed: false);
        var pos = start + delimiter.Length;
        var closed = false;
        var headersEnded = true;
        while (pos <= raw.Length)
        {
            if (raw[pos..].StartsWith("--"u8)) { closed = true; break; } // closing delimiter
            var lineEnd = raw[pos..].IndexOf("\r\n"u8);
            if (lineEnd < 0) break;
            pos += lineEnd + 2;
            var next = IndexOfDelimiter(raw[pos..], delimiter);
            var content = next < 0 ? raw[pos..] : raw.Slice(pos, next);
            var part = Part.Parse(content, out var complete);
            headersEnded &= complete;
            parts.Add(part);
            if (next < 0) break;
            pos += next + 2 + delimiter.Length;
        }
        return new MultipartBody(boundary, parts, closed && headersEnded);
    }

    private static int IndexOfDelimiter(ReadOnlySpan<byte> span, byte[] delimiter)
    {
        var offset = 0;
        while (true)
        {
            var crlf = span[offset..].IndexOf("\r\n"u8);
            if (crlf < 0) return -1;
            var at = offset + crlf;
            if (span[(at + 2)..].StartsWith(delimiter)) return at;
            offset = at + 2;
        }
    }

    /// <summary>The last part named <paramref name="name"/> (lua-multipart's <c>get</c>).</summary>
    public Part? Get(string name) => _parts.FindLast(p => p.Name == name);

    /// <summary>Replaces the value of the last part of that name by a plain field (its headers reduced to the
    /// Content-Disposition), or appends one (lua-multipart's <c>set_simple</c>).</summary>
    public void SetSimple(string name, string value)
    {
        var part = Part.Simple(name, value);
        var i = _parts.FindLastIndex(p => p.Name == name);
        if (i >= 0) _parts[i] = part; else _parts.Add(part);
    }

    /// <summary>Removes the last part of that name; false when there is none.</summary>
    public bool Delete(string name)
    {
        var i = _parts.FindLastIndex(p => p.Name == name);
        if (i < 0) return false;
        _parts.RemoveAt(i);
        return true;
    }

    /// <summary>The body with the same boundary; empty when no part is left (as lua-multipart).</summary>
    public byte[] ToBytes()
    {
        if (_parts.Count == 0) return [];
        using var output = new MemoryStream();
        var dash = Encoding.ASCII.GetBytes("--" + Boundary);
        foreach (var part in _parts)
        {
            output.Write(dash);
            output.Write("\r\n"u8);
            foreach (var line in part.HeaderLines)
            {
                output.Write(Encoding.UTF8.GetBytes(line));
                output.Write("\r\n"u8);
            }
            output.Write("\r\n"u8);
            output.Write(part.Value);
            output.Write("\r\n"u8);
        }
        output.Write(dash);
        output.Write("--\r\n"u8);
        return output.ToArray();
    }

    /// <summary>One part: its name (from Content-Disposition), header lines as sent, and raw value.</summary>
    public sealed record Part(string? Name, IReadOnlyList<string> HeaderLines, byte[] Value)
    {
        public string Text => Encoding.UTF8.GetString(Value);

        public static Part Simple(string name, string value) =>
            new(name, [$"Content-Disposition: form-data; name=\"{name}\""], Encoding.UTF8.GetBytes(value));

        internal static Part Parse(ReadOnlySpan<byte> content, out bool headersEnded)
        {
            var split = content.StartsWith("\r\n"u8) ? -2 : content.IndexOf("\r\n\r\n"u8);
            headersEnded = split != -1;
            var head = split switch { -2 => default, < 0 => content, _ => content[..split] };
            var value = split switch { -2 => content[2..], < 0 => default, _ => content[(split + 4)..] };
            var lines = head.IsEmpty ? [] : Encoding.UTF8.GetString(head).Split("\r\n");
            return new Part(NameOf(lines), lines, value.ToArray());
        }

        private static string? NameOf(IEnumerable<string> lines)
        {
            foreach (var line in lines)
            {
                if (!line.StartsWith("content-disposition", StringComparison.OrdinalIgnoreCase)) continue;
                foreach (var piece in line.Split(';'))
                {
                    var p = piece.Trim();
                    if (!p.StartsWith("name=", StringComparison.OrdinalIgnoreCase)) continue;
                    var v = p[5..].Trim();
                    return v.Length >= 2 && v[0] == '"' && v[^1] == '"' ? v[1..^1] : v;
                }
            }
            return null;
        }
    }
}
