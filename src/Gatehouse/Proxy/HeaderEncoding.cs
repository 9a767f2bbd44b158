using System.Text;

namespace Gatehouse.Proxy;

/// <summary>
/// Header values are bytes end to end, as in nginx: every hop (Kestrel in both directions, the upstream
/// <see cref="SocketsHttpHandler"/> in both directions, the Proxy-Wasm header codec) decodes and encodes them as
/// ISO-8859-1, one char per byte, so <c>X-Name: café</c> in UTF-8, Latin-1 or anything else reaches the upstream, the
/// client and a filter exactly as received. Control characters stay refused by Kestrel and SocketsHttpHandler.
/// Latin-1 of ASCII is ASCII: the common request pays nothing (Kestrel and .NET have vectorised Latin-1 paths).
/// </summary>
public static class HeaderEncoding
{
    /// <summary>Kestrel's request selector: Latin-1, except Content-Length which is held to RFC 9110's 1*DIGIT.</summary>
    public static Encoding? Request(string name) =>
        string.Equals(name, "Content-Length", StringComparison.OrdinalIgnoreCase) ? ContentLengthDigits.Instance
        : string.Equals(name, "Connection", StringComparison.OrdinalIgnoreCase) ? ConnectionList.Instance
        : Encoding.Latin1;

    /// <summary>Kestrel's response selector.</summary>
    public static Encoding? Response(string name) => Encoding.Latin1;

    /// <summary>SocketsHttpHandler's request and response selectors (upstream and Proxy-Wasm http calls).</summary>
    public static Encoding? Upstream(string name, HttpRequestMessage? request) => Encoding.Latin1;

    /// <summary>
    /// Kestrel replaces a request's Connection header that carries exactly one of its options (keep-alive, close,
    /// upgrade) with that option alone, before the application runs, so the header names listed beside it (which a
    /// proxy must remove, <see cref="ConnectionHeaders"/>) would be lost. Kestrel keeps the header as received
    /// when it carries two options, so when names are listed this decoder appends a second option that does not
    /// change the outcome where it can: <c>keep-alive</c> to close and upgrade (close still wins, an upgrade
    /// still upgrades), and <c>close</c> to keep-alive (the one cost: such a connection closes after its response).
    /// The bytes are otherwise Latin-1, one char per byte.
    /// </summary>
    private sealed unsafe class ConnectionList : Encoding
    {
        public static readonly ConnectionList Instance = new();
        private const string AddClose = ", close";
        private const string AddKeepAlive = ", keep-alive";

        private static string Suffix(ReadOnlySpan<byte> value)
        {
            var options = 0;
            var names = false;
            foreach (var range in value.Split((byte)','))
            {
                var token = value[range].Trim((byte)' ');
                if (token.IsEmpty) continue;
                if (Ascii.EqualsIgnoreCase(token, "keep-alive"u8)) options |= 1;
                else if (Ascii.EqualsIgnoreCase(token, "close"u8)) options |= 2;
                else if (Ascii.EqualsIgnoreCase(token, "upgrade"u8)) options |= 4;
                else names = true;
            }
            if (!names) return "";
            return options switch { 1 => AddClose, 2 or 4 => AddKeepAlive, _ => "" };
        }

        public override int GetCharCount(byte* bytes, int count) => count + Suffix(new ReadOnlySpan<byte>(bytes, count)).Length;

        public override int GetChars(byte* bytes, int byteCount, char* chars, int charCount)
        {
            var value = new ReadOnlySpan<byte>(bytes, byteCount);
            var suffix = Suffix(value);
            var destination = new Span<char>(chars, charCount);
            Latin1.GetChars(value, destination);
            suffix.CopyTo(destination[byteCount..]);
            return byteCount + suffix.Length;
        }

        public override int GetByteCount(char[] chars, int index, int count) => count;

        public override int GetBytes(char[] chars, int charIndex, int charCount, byte[] bytes, int byteIndex) =>
            Latin1.GetBytes(chars, charIndex, charCount, bytes, byteIndex);

        public override int GetCharCount(byte[] bytes, int index, int count) => GetCharCount(bytes.AsSpan(index, count));

        public override int GetChars(byte[] bytes, int byteIndex, int byteCount, char[] chars, int charIndex) =>
            GetChars(bytes.AsSpan(byteIndex, byteCount), chars.AsSpan(charIndex));

        public override int GetCharCount(ReadOnlySpan<byte> bytes) => bytes.Length + Suffix(bytes).Length;

        public override int GetChars(ReadOnlySpan<byte> bytes, Span<char> chars)
        {
            var suffix = Suffix(bytes);
            Latin1.GetChars(bytes, chars);
            suffix.CopyTo(chars[bytes.Length..]);
            return bytes.Length + suffix.Length;
        }

        public override int GetMaxByteCount(int charCount) => charCount;

        public override int GetMaxCharCount(int byteCount) => byteCount + AddKeepAlive.Length;
    }

    /// <summary>
    /// Kestrel parses a request's Content-Length with a number parser that takes a sign (<c>+5</c>, <c>-0</c>);
    /// nginx and RFC 9110 take digits only. Kestrel hands this decoder the raw value (after OWS trimming) and
    /// parses what it returns, so any byte but a digit decodes to a character that fails the parse: Kestrel
    /// then refuses the request with 400 and closes the connection before anything else runs. Leading zeros are
    /// dropped (nginx accepts them) so an over-long but valid value still fits Kestrel's 19-digit buffer.
    /// </summary>
    private sealed class ContentLengthDigits : Encoding
    {
        public static readonly ContentLengthDigits Instance = new();

        public override int GetChars(ReadOnlySpan<byte> bytes, Span<char> chars)
        {
            var start = 0;
            while (start < bytes.Length - 1 && bytes[start] == (byte)'0') start++;
            var digits = bytes[start..];
            if (digits.Length > chars.Length || digits.ContainsAnyExceptInRange((byte)'0', (byte)'9'))
            {
                if (chars.IsEmpty) return 0;
                chars[0] = 'x';
                return 1;
            }
            for (var i = 0; i < digits.Length; i++) chars[i] = (char)digits[i];
            return digits.Length;
        }

        public override int GetByteCount(char[] chars, int index, int count) => count;

        public override int GetBytes(char[] chars, int charIndex, int charCount, byte[] bytes, int byteIndex) =>
            Latin1.GetBytes(chars, charIndex, charCount, bytes, byteIndex);

        public override int GetCharCount(byte[] bytes, int index, int count) => count;

        public override int GetChars(byte[] bytes, int byteIndex, int byteCount, char[] chars, int charIndex) =>
            GetChars(bytes.AsSpan(byteIndex, byteCount), chars.AsSpan(charIndex));

        public override int GetMaxByteCount(int charCount) => charCount;

        public override int GetMaxCharCount(int byteCount) => Math.Max(1, byteCount);
    }
}
