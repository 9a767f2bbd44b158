using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using ProxyWasm.Runtime;

namespace ProxyWasm.Http;

/// <summary>Encoders for property values in the two encodings of spec §4.1.</summary>
public static class PropertyValues
{
    /// <summary>Strings are raw UTF-8 bytes in both encodings.</summary>
    public static byte[] String(string value) => Encoding.UTF8.GetBytes(value);

    /// <summary>Envoy: 8-byte little-endian; ngx: decimal text.</summary>
    public static byte[] Int64(long value, PropertyEncoding encoding)
    {
        if (encoding == PropertyEncoding.Text) return Encoding.ASCII.GetBytes(value.ToString(CultureInfo.InvariantCulture));
        var b = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(b, value);
        return b;
    }

    /// <summary>Envoy: one byte 0/1; ngx: <c>true</c>/<c>false</c>.</summary>
    public static byte[] Bool(bool value, PropertyEncoding encoding)
        => encoding == PropertyEncoding.Text ? Encoding.ASCII.GetBytes(value ? "true" : "false") : [value ? (byte)1 : (byte)0];

    /// <summary>Envoy: i64 LE nanoseconds since the Unix epoch; ngx: <c>sec.msec</c>.</summary>
    public static byte[] Timestamp(DateTimeOffset value, PropertyEncoding encoding)
    {
        long ns = (value.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * 100;
        if (encoding == PropertyEncoding.Text)
        {
            long ms = ns / 1_000_000;
            return Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{ms / 1000}.{ms % 1000:D3}"));
        }
        return Int64(ns, PropertyEncoding.Binary);
    }
}
