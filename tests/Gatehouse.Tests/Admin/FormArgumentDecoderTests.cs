using Gatehouse.Admin;
using Xunit;

namespace Gatehouse.Tests.Admin;

public sealed class FormArgumentDecoderTests
{
    private static string Decode(params (string Key, string Value)[] args) =>
        FormArgumentDecoder.Decode(args.Select(a => KeyValuePair.Create(a.Key, (string?)a.Value))).ToJsonString();

    [Fact]
    public void Positions_order_the_array_and_gaps_close()
    {
        Assert.Equal("""{"hosts":["a","b","c"]}""", Decode(("hosts[3]", "c"), ("hosts[1]", "a"), ("hosts[2]", "b")));
        Assert.Equal("""{"hosts":["x","y"]}""", Decode(("hosts[]", "x"), ("hosts[7]", "y")));
        Assert.Equal("""{"hosts":["y","x"]}""", Decode(("hosts[7]", "y"), ("hosts[]", "x")));
        Assert.Equal("""{"a":["1","2","3"]}""", Decode(("a", "1"), ("a", "2"), ("a[]", "3")));
        Assert.Equal("""{"r":[{"n":"p","v":"1"}]}""", Decode(("r[1].n", "p"), ("r[1].v", "1")));
    }

    [Fact]
    public void A_huge_position_costs_one_entry_not_an_array_that_long()
    {
        // found by the Admin body fuzz target: the decoder used to pad the array with nulls up to the index
        var before = GC.GetAllocatedBytesForCurrentThread();
        var json = Decode(("hosts[2147483647]", "b"), ("hosts[999999999]", "a"), ("paths[2000000000].x", "y"));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal("""{"hosts":["a","b"],"paths":[{"x":"y"}]}""", json);
        Assert.True(allocated < 1_000_000, $"{allocated} bytes allocated");
    }
}
