using Gatehouse.Proxy.Balancing;

namespace Gatehouse.Tests.Proxy.Balancing;

public sealed class XxHash32Tests
{
    // Expected values computed with System.IO.Hashing.XxHash32 (seed 0), an independent implementation.
    [Theory]
    [InlineData("", 0x02CC5D05u)]
    [InlineData("a", 0x550D7456u)]
    [InlineData("abc", 0x32D153FFu)]
    [InlineData("abcd", 0xA3643705u)]
    [InlineData("0123456789abcdef", 0xC2C45B69u)]
    [InlineData("Nobody inspects the spammish repetition", 0xE2293B2Fu)]
    [InlineData("10.0.0.1:8000 1", 0x7D569098u)]
    [InlineData("user-4711", 0x8A6CC4C6u)]
    [InlineData("Grüße, 世界, a key longer than sixteen bytes to use the stripes", 0x6E300057u)]
    public void Matches_the_reference_values(string text, uint expected) => Assert.Equal(expected, XxHash32.Hash(text));

    [Fact]
    public void Long_keys_hash_like_their_bytes()
    {
        var key = new string('k', 2000) + "é";
        Assert.Equal(XxHash32.Hash(System.Text.Encoding.UTF8.GetBytes(key)), XxHash32.Hash(key));
    }
}
