using ProxyWasm.Abi;

namespace ProxyWasm.Tests;

public sealed class PairsCodecTests
{
    private static readonly byte[] Example =
    [
        0x02, 0, 0, 0, 0x01, 0, 0, 0, 0x01, 0, 0, 0, 0x01, 0, 0, 0, 0x02, 0, 0, 0,
        0x61, 0x00, 0x31, 0x00, 0x62, 0x00, 0x32, 0x32, 0x00,
    ];

    [Fact]
    public void Serializes_the_spec_worked_example_byte_for_byte()
    {
        var bytes = PairsCodec.ToArray([KeyValuePair.Create("a", "1"), KeyValuePair.Create("b", "22")]);
        Assert.Equal(Example, bytes);
    }

    [Fact]
    public void Parses_the_spec_worked_example()
    {
        var pairs = new List<KeyValuePair<string, string>>();
        Assert.True(PairsCodec.TryParse(Example, 1 << 20, 1024, pairs));
        Assert.Equal([KeyValuePair.Create("a", "1"), KeyValuePair.Create("b", "22")], pairs);
    }

    [Theory]
    [InlineData(new byte[0])]
    [InlineData(new byte[] { 0 })]
    [InlineData(new byte[] { 0, 0, 0, 0 })]
    public void Accepts_every_empty_encoding(byte[] data)
    {
        var pairs = new List<KeyValuePair<string, string>>();
        Assert.True(PairsCodec.TryParse(data, 1 << 20, 1024, pairs));
        Assert.Empty(pairs);
    }

    [Theory]
    [InlineData(new byte[] { 1, 0, 0 })] // short header
    [InlineData(new byte[] { 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0x61, 0x00, 0x31 })] // missing NUL
    [InlineData(new byte[] { 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0x61, 0x00, 0x31, 0x00, 0x99 })] // trailing byte
    [InlineData(new byte[] { 1, 0, 0, 0, 9, 0, 0, 0, 1, 0, 0, 0, 0x61, 0x00, 0x31, 0x00 })] // overrun
    [InlineData(new byte[] { 0xff, 0xff, 0, 0 })] // count over limit
    public void Rejects_malformed_input(byte[] data)
    {
        var pairs = new List<KeyValuePair<string, string>>();
        Assert.False(PairsCodec.TryParse(data, 1 << 20, 1024, pairs));
        Assert.Empty(pairs);
    }

    [Fact]
    public void Rejects_input_over_the_byte_limit()
    {
        var bytes = PairsCodec.ToArray([KeyValuePair.Create("key", new string('v', 100))]);
        Assert.False(PairsCodec.TryParse(bytes, bytes.Length - 1, 1024, []));
        Assert.True(PairsCodec.TryParse(bytes, bytes.Length, 1024, []));
    }

    [Fact]
    public void Round_trips_random_maps_and_never_throws_on_garbage()
    {
        var random = new Random(42);
        for (int i = 0; i < 200; i++)
        {
            var map = Enumerable.Range(0, random.Next(0, 8))
                .Select(j => KeyValuePair.Create("k" + random.Next(1000), new string('x', random.Next(0, 20)))).ToList();
            var parsed = new List<KeyValuePair<string, string>>();
            Assert.True(PairsCodec.TryParse(PairsCodec.ToArray(map), 1 << 20, 1024, parsed));
            Assert.Equal(map, parsed);
            var garbage = new byte[random.Next(0, 64)];
            random.NextBytes(garbage);
            PairsCodec.TryParse(garbage, 1 << 20, 1024, []); // must not throw
        }
    }
}
