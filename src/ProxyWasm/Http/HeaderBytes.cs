using System.Text;

namespace ProxyWasm.Http;

/// <summary>
/// Header names and values are bytes on the wire and in a filter's memory (Envoy and ngx_wasm_module pass them
/// through untouched); hosts hold them as byte strings: one char per byte, U+0000–U+00FF (ISO-8859-1). A value
/// a filter sets therefore leaves the gateway byte for byte, and a filter reads exactly what the client sent,
/// whatever its encoding. A char above U+00FF (only a host can make one) is written as '?'.
/// </summary>
public static class HeaderBytes
{
    /// <summary>The byte string of <paramref name="bytes"/>.</summary>
    public static string Read(ReadOnlySpan<byte> bytes) => bytes.IsEmpty ? "" : Encoding.Latin1.GetString(bytes);

    /// <summary>Writes <paramref name="value"/>'s bytes (exactly <c>value.Length</c>) into <paramref name="dest"/>.</summary>
    public static int Write(string value, Span<byte> dest) => Encoding.Latin1.GetBytes(value, dest);

    /// <summary>The byte string of a text's UTF-8 encoding (e.g. a configured header value); ASCII is returned as is.</summary>
    public static string FromText(string text) => Ascii.IsValid(text) ? text : Read(Encoding.UTF8.GetBytes(text));

    /// <summary>The text a byte string holds when read as UTF-8 (invalid sequences become U+FFFD); ASCII is returned as is.</summary>
    public static string ToText(string bytes) => Ascii.IsValid(bytes) ? bytes : Encoding.UTF8.GetString(Encoding.Latin1.GetBytes(bytes));
}
