using System.Text;

namespace Gatehouse.Plugins.Bodies;

/// <summary>
/// The one decoder of <c>application/x-www-form-urlencoded</c> text (form bodies and query strings), with what
/// nginx's <c>ngx.decode_args</c> does: fields split on <c>&amp;</c>, <c>+</c> is a space, <c>%XX</c> is a byte,
/// a field without <c>=</c> has no value. Decoding is byte-exact and lossless: a byte that is not part of valid
/// UTF-8 becomes the lone surrogate U+DC80+byte (so schema validation can report "invalid utf-8", and
/// <see cref="Bytes"/>/<see cref="Encode"/> give back the bytes that were sent).
/// </summary>
public static class FormUrlEncoded
{
    /// <summary>One field: decoded name, decoded value (null when the field had no <c>=</c>), and the segment as sent.</summary>
    public sealed record Field(string Name, string? Value, string Raw);

    private static readonly UTF8Encoding StrictUtf8 = new(false, true);

    /// <summary>The fields of <paramref name="body"/> in order; empty segments are skipped.</summary>
    public static IReadOnlyList<Field> Parse(ReadOnlySpan<byte> body)
    {
        var fields = new List<Field>();
        while (!body.IsEmpty)
        {
            var amp = body.IndexOf((byte)'&');
            var segment = amp < 0 ? body : body[..amp];
            body = amp < 0 ? default : body[(amp + 1)..];
            if (segment.IsEmpty) continue;
            var eq = segment.IndexOf((byte)'=');
            var name = Decode(eq < 0 ? segment : segment[..eq]);
            var value = eq < 0 ? null : Decode(segment[(eq + 1)..]);
            fields.Add(new Field(name, value, Lenient(segment)));
        }
        return fields;
    }

    /// <summary>The fields grouped by name, in the order names first appear (a field without a value counts as
    /// the empty string): the shape <c>ngx.decode_args</c> gives Lua code.</summary>
    public static List<(string Name, List<string> Values)> Grouped(IEnumerable<Field> fields)
    {
        var grouped = new List<(string Name, List<string> Values)>();
        var byName = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var field in fields)
        {
            if (!byName.TryGetValue(field.Name, out var values))
            {
                byName[field.Name] = values = [];
                grouped.Add((field.Name, values));
            }
            values.Add(field.Value ?? "");
        }
        return grouped;
    }

    /// <summary>A query string (with or without its leading <c>?</c>) or form text.</summary>
    public static IReadOnlyList<Field> Parse(string? text)
    {
        if (string.IsNullOrEmpty(text)) return [];
        return Parse(Bytes(text.StartsWith('?') ? text[1..] : text));
    }

    /// <summary>Percent-decodes one component (<c>+</c> is a space).</summary>
    public static string Decode(ReadOnlySpan<byte> raw)
    {
        var bytes = new byte[raw.Length];
        var n = 0;
        for (var i = 0; i < raw.Length; i++)
        {
            var b = raw[i];
            if (b == '+') bytes[n++] = (byte)' ';
            else if (b == '%' && i + 2 < raw.Length && IsHex(raw[i + 1]) && IsHex(raw[i + 2]))
            {
                bytes[n++] = (byte)((HexValue(raw[i + 1]) << 4) | HexValue(raw[i + 2]));
                i += 2;
            }
            else bytes[n++] = b;
        }
        return Lenient(bytes.AsSpan(0, n));
    }

    /// <summary>UTF-8 decoding that maps each byte outside a valid sequence to U+DC80+byte instead of U+FFFD.</summary>
    public static string Lenient(ReadOnlySpan<byte> bytes)
    {
        try { return StrictUtf8.GetString(bytes); }
        catch (DecoderFallbackException) { }
        var sb = new StringBuilder(bytes.Length);
        var i = 0;
        while (i < bytes.Length)
        {
            var len = SequenceLength(bytes, i);
            if (len > 0) { sb.Append(StrictUtf8.GetString(bytes.Slice(i, len))); i += len; }
            else { sb.Append((char)(0xDC00 + bytes[i])); i++; }
        }
        return sb.ToString();
    }

    /// <summary>The bytes a <see cref="Lenient"/> string was decoded from (other text: its UTF-8).</summary>
    public static byte[] Bytes(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        using var output = new MemoryStream(text.Length);
        Span<byte> utf8 = stackalloc byte[4];
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                output.Write(utf8[..Encoding.UTF8.GetBytes(text.AsSpan(i, 2), utf8)]);
                i++;
            }
            else if (c is >= '\uDC80' and <= '\uDCFF') output.WriteByte((byte)(c - 0xDC00));
            else if (char.IsSurrogate(c)) output.Write("\uFFFD"u8); // not from Lenient: no bytes to give back
            else output.Write(utf8[..Encoding.UTF8.GetBytes(text.AsSpan(i, 1), utf8)]);
        }
        return output.ToArray();
    }

    /// <summary>Percent-encodes a component for a form body (unreserved characters as they are; lossless for
    /// <see cref="Lenient"/> strings).</summary>
    public static string Encode(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (var b in Bytes(text))
        {
            if (char.IsAsciiLetterOrDigit((char)b) || b is (byte)'-' or (byte)'_' or (byte)'.' or (byte)'~') sb.Append((char)b);
            else sb.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }

    private static int SequenceLength(ReadOnlySpan<byte> b, int i)
    {
        var first = b[i];
        var len = first < 0x80 ? 1 : (first & 0xE0) == 0xC0 ? 2 : (first & 0xF0) == 0xE0 ? 3 : (first & 0xF8) == 0xF0 ? 4 : 0;
        if (len == 0 || i + len > b.Length) return 0;
        try { StrictUtf8.GetString(b.Slice(i, len)); return len; }
        catch (DecoderFallbackException) { return 0; }
    }

    private static bool IsHex(byte b) => char.IsAsciiHexDigit((char)b);

    private static int HexValue(byte b) => b <= '9' ? b - '0' : (b | 0x20) - 'a' + 10;
}
