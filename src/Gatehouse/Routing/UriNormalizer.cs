using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace Gatehouse.Routing;

/// <summary>
/// The one request-path normaliser: what the router matches on and what the upstream receives are both derived from
/// its result, so they cannot disagree. It is Kong's <c>normalize(uri, true)</c> (kong/tools/uri.lua) with nginx's
/// request-line checks in front, plus Kong's <c>escape</c> for the wire:
/// <list type="bullet">
/// <item>an escape of a reserved character (<c>!*'();:@&amp;=+$,/?%#[]</c>) stays encoded, hex in upper case
/// (<c>%2f</c> → <c>%2F</c>); any other escape is decoded (<c>%41</c> → <c>A</c>, <c>%2e</c> → <c>.</c>,
/// <c>%C3%A9</c> → <c>é</c>); bytes that are not UTF-8 stay encoded (<c>%ff</c> → <c>%FF</c>), so the result is
/// one unambiguous string;</item>
/// <item>dot segments are resolved and slashes merged (<c>/a//b/./c/..</c> → <c>/a/b/</c>);</item>
/// <item>as nginx answers 400 before Kong sees them: a malformed escape (<c>%zz</c>, <c>%2</c>), <c>%00</c>, and
/// a <c>..</c> above the root counted with <c>%2F</c> as a separator.</item>
/// </list>
/// An already-normal path costs a scan and no allocation (the caller's string is returned).
/// </summary>
public static class UriNormalizer
{
    private const int StackLimit = 256;
    private const string Hex = "0123456789ABCDEF";

    /// <summary>Kong's reserved characters: decoding them would change the meaning of the URI.</summary>
    private static readonly SearchValues<char> Reserved = SearchValues.Create("!*'();:@&=+$,/?%#[]");

    /// <summary>Characters Kong's <c>escape</c> sends as they are; any other is sent as %XX of its UTF-8 bytes.</summary>
    private static readonly SearchValues<char> PathWireSafe =
        SearchValues.Create("!#$&'()*+,/:;=?@[]ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~%");

    /// <summary>What may be written in a request line's query as it is: visible ASCII.</summary>
    private static readonly SearchValues<char> QueryWireSafe = SearchValues.Create(
        "!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~");

    /// <summary>Splits a raw request target into path and query (with its '?', or empty). Origin form
    /// (<c>/p?q</c>) and absolute form (<c>http://h/p?q</c>, path <c>/</c> when absent) are accepted; anything else
    /// (<c>*</c>, authority form) is not a proxied request and returns false.</summary>
    public static bool TrySplitTarget(string rawTarget, out ReadOnlySpan<char> path, out ReadOnlySpan<char> query)
    {
        ArgumentNullException.ThrowIfNull(rawTarget);
        ReadOnlySpan<char> target = rawTarget;
        path = query = default;
        if (target.Length == 0) return false;
        if (target[0] != '/')
        {
            var scheme = target.IndexOf("://", StringComparison.Ordinal);
            if (scheme <= 0) return false;
            var rest = target[(scheme + 3)..];
            var end = rest.IndexOfAny('/', '?');
            if (end < 0) { path = "/"; return true; }
            target = rest[end..];
            if (target[0] == '?') { path = "/"; query = target; return true; }
        }
        var q = target.IndexOf('?');
        path = q < 0 ? target : target[..q];
        query = q < 0 ? default : target[q..];
        return true;
    }

    /// <summary>Normalises a raw request path (no query, starting with '/').</summary>
    /// <param name="raw">the path as received</param>
    /// <param name="candidate">a string whose content may equal the result (e.g. the raw target itself, or the
    /// server's decoded path); returned instead of allocating when it does</param>
    /// <param name="path">the normalised path</param>
    /// <returns>false when nginx would answer 400 (see the class remarks)</returns>
    public static bool TryNormalize(ReadOnlySpan<char> raw, string? candidate, [NotNullWhen(true)] out string? path)
    {
        path = null;
        if (raw.Length == 0 || raw[0] != '/') return false;
        if (!raw.Contains('%') && !raw.Contains("//", StringComparison.Ordinal) && !raw.Contains("/.", StringComparison.Ordinal))
        {
            path = Same(raw, candidate);
            return true;
        }
        char[]? rented = null;
        var buffer = raw.Length <= StackLimit ? stackalloc char[StackLimit] : (rented = ArrayPool<char>.Shared.Rent(raw.Length));
        try
        {
            var n = Decode(raw, buffer);
            if (n < 0) return false;
            var decoded = buffer[..n];
            if (decoded.Contains('.') && ClimbsAboveRoot(decoded)) return false;
            n = RemoveDotSegments(buffer, n);
            var result = buffer[..n];
            path = result.SequenceEqual(raw) ? Same(raw, candidate) : new string(result);
            return true;
        }
        finally
        {
            if (rented is not null) ArrayPool<char>.Shared.Return(rented);
        }
    }

    /// <summary>Kong's <c>escape</c>: the normalised path as it goes on the wire. Characters outside the safe set
    /// (non-ASCII, space, <c>"&lt;&gt;\^`{|}</c>, controls) become %XX of their UTF-8 bytes; escapes already present
    /// are kept. Returns <paramref name="path"/> itself when nothing needs escaping.</summary>
    public static string Escape(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var first = path.AsSpan().IndexOfAnyExcept(PathWireSafe);
        return first < 0 ? path : EscapeFrom(path, first, PathWireSafe);
    }

    /// <summary>The query as it goes on the wire: as received (nginx and Kong forward it untouched), except that
    /// what cannot be written in a request line (non-ASCII, space, controls) becomes %XX of its UTF-8 bytes.</summary>
    public static string EscapeQuery(string query)
    {
        ArgumentNullException.ThrowIfNull(query);
        var first = query.AsSpan().IndexOfAnyExcept(QueryWireSafe);
        return first < 0 ? query : EscapeFrom(query, first, QueryWireSafe);
    }

    private static string Same(ReadOnlySpan<char> raw, string? candidate) =>
        candidate is not null && raw.SequenceEqual(candidate) ? candidate : new string(raw);

    /// <summary>Percent-decoding into <paramref name="output"/> (never longer than the input); -1 when malformed.</summary>
    private static int Decode(ReadOnlySpan<char> raw, Span<char> output)
    {
        Span<byte> run = stackalloc byte[4];
        var w = 0;
        var i = 0;
        while (i < raw.Length)
        {
            var c = raw[i];
            if (c != '%')
            {
                output[w++] = c;
                i++;
                continue;
            }
            if (!TryHexByte(raw, i, out var b) || b == 0) return -1;
            if (b < 0x80)
            {
                if (Reserved.Contains((char)b))
                {
                    output[w++] = '%';
                    output[w++] = Hex[b >> 4];
                    output[w++] = Hex[b & 0xF];
                }
                else output[w++] = (char)b;
                i += 3;
                continue;
            }
            // a UTF-8 sequence of escapes: decoded when valid, its bytes kept as %XX otherwise
            var length = 0;
            while (length < run.Length && i + 3 * length < raw.Length && raw[i + 3 * length] == '%'
                   && TryHexByte(raw, i + 3 * length, out var next) && next >= 0x80)
                run[length++] = next;
            var status = Rune.DecodeFromUtf8(run[..length], out var rune, out var consumed);
            if (status == OperationStatus.Done)
                w += rune.EncodeToUtf16(output[w..]);
            else
            {
                for (var k = 0; k < consumed; k++)
                {
                    output[w++] = '%';
                    output[w++] = Hex[run[k] >> 4];
                    output[w++] = Hex[run[k] & 0xF];
                }
            }
            i += 3 * consumed;
        }
        return w;
    }

    private static bool TryHexByte(ReadOnlySpan<char> raw, int percent, out byte value)
    {
        value = 0;
        if (percent + 2 >= raw.Length) return false;
        var hi = HexValue(raw[percent + 1]);
        var lo = HexValue(raw[percent + 2]);
        if (hi < 0 || lo < 0) return false;
        value = (byte)(hi << 4 | lo);
        return true;
    }

    private static int HexValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'A' and <= 'F' => c - 'A' + 10,
        >= 'a' and <= 'f' => c - 'a' + 10,
        _ => -1,
    };

    /// <summary>nginx's check: with <c>%2F</c> read as '/', empty segments merged, does a <c>..</c> go above the
    /// root? (<c>/a/%2e%2e/%2e%2e/b</c>, <c>/a%2F..%2F..</c>: 400.)</summary>
    private static bool ClimbsAboveRoot(ReadOnlySpan<char> path)
    {
        var depth = 0;
        var start = 0;
        for (var i = 0; i <= path.Length; i++)
        {
            var separator = i == path.Length ? 0 : path[i] == '/' ? 1 : IsEncodedSlash(path, i) ? 3 : 0;
            if (separator == 0 && i < path.Length) continue;
            var segment = path[start..i];
            if (segment.SequenceEqual(".."))
            {
                if (depth == 0) return true;
                depth--;
            }
            else if (segment.Length > 0 && !segment.SequenceEqual(".")) depth++;
            start = i + separator;
            if (separator == 3) i += 2;
        }
        return false;
    }

    private static bool IsEncodedSlash(ReadOnlySpan<char> path, int i) =>
        path[i] == '%' && i + 2 < path.Length && path[i + 1] == '2' && path[i + 2] == 'F';

    /// <summary>Kong's loop over segments, in place: <c>.</c> and empty segments dropped (kept as a trailing '/'
    /// when last), <c>..</c> removes the previous segment (none above the root).</summary>
    private static int RemoveDotSegments(Span<char> buffer, int length)
    {
        var w = 0;
        var r = 0;
        while (r < length)
        {
            var next = buffer[(r + 1)..length].IndexOf('/');
            var end = next < 0 ? length : r + 1 + next;
            var segment = buffer[(r + 1)..end];
            var last = end == length;
            if (segment.Length == 0 || segment.SequenceEqual("."))
            {
                if (last) buffer[w++] = '/';
            }
            else if (segment.SequenceEqual(".."))
            {
                var previous = buffer[..w].LastIndexOf('/');
                w = previous < 0 ? 0 : previous;
                if (last) buffer[w++] = '/';
            }
            else
            {
                buffer[r..end].CopyTo(buffer[w..]);
                w += end - r;
            }
            r = end;
        }
        if (w == 0) buffer[w++] = '/';
        return w;
    }

    private static string EscapeFrom(string value, int first, SearchValues<char> safe)
    {
        var builder = new StringBuilder(value.Length + 16);
        builder.Append(value, 0, first);
        Span<byte> utf8 = stackalloc byte[4];
        var i = first;
        while (i < value.Length)
        {
            var c = value[i];
            if (safe.Contains(c))
            {
                builder.Append(c);
                i++;
                continue;
            }
            if (Rune.DecodeFromUtf16(value.AsSpan(i), out var rune, out var used) != OperationStatus.Done)
                rune = Rune.ReplacementChar;
            var count = rune.EncodeToUtf8(utf8);
            for (var k = 0; k < count; k++)
                builder.Append('%').Append(Hex[utf8[k] >> 4]).Append(Hex[utf8[k] & 0xF]);
            i += Math.Max(1, used);
        }
        return builder.ToString();
    }
}
