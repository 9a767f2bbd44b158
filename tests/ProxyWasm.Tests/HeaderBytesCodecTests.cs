using ProxyWasm.Abi;
using ProxyWasm.Http;
using Xunit;

namespace ProxyWasm.Tests;

/// <summary>Issue #10 item 8: header names and values cross the ABI as bytes, whatever their encoding.</summary>
public sealed class HeaderBytesCodecTests
{
    [Theory]
    [InlineData(new byte[] { 0x63, 0x61, 0x66, 0xc3, 0xa9 })] // UTF-8 café
    [InlineData(new byte[] { 0x63, 0x61, 0x66, 0xe9 })] // Latin-1 café
    [InlineData(new byte[] { 0xc3, 0x28, 0xed, 0xa0, 0x80, 0xff, 0x80 })] // invalid UTF-8
    public void Serialized_pairs_carry_the_exact_bytes_both_ways(byte[] value)
    {
        var text = HeaderBytes.Read(value);
        var serialized = PairsCodec.ToArray([KeyValuePair.Create("x-n\u00e9", text)]);
        // u32 count, u32 key len, u32 value len, key \0 value \0
        Assert.Equal(4, BitConverter.ToInt32(serialized, 4));
        Assert.Equal(value.Length, BitConverter.ToInt32(serialized, 8));
        Assert.Equal(new byte[] { 0x78, 0x2d, 0x6e, 0xe9, 0 }, serialized[12..17]);
        Assert.Equal(value, serialized[17..^1]);
        var parsed = new List<KeyValuePair<string, string>>();
        Assert.True(PairsCodec.TryParse(serialized, 1 << 20, 100, parsed));
        Assert.Equal(text, parsed[0].Value);
        Assert.Equal(value, System.Text.Encoding.Latin1.GetBytes(parsed[0].Value));
        Assert.Equal(serialized.Length, PairsCodec.SizeOf([KeyValuePair.Create("x-n\u00e9", text)]));
    }

    [Fact]
    public void Text_conversions_keep_ASCII_as_is_and_map_UTF_8()
    {
        const string ascii = "plain";
        Assert.Same(ascii, HeaderBytes.FromText(ascii));
        Assert.Same(ascii, HeaderBytes.ToText(ascii));
        Assert.Equal("caf\u00c3\u00a9", HeaderBytes.FromText("café"));
        Assert.Equal("café", HeaderBytes.ToText("caf\u00c3\u00a9"));
    }
}
