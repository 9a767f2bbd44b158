using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Entities;
using Gatehouse.Hosting;
using Gatehouse.Store;
using Gatehouse.Store.Declarative;

namespace Gatehouse.Tests.Store;

/// <summary>Rows handed to a model conversion that lets go of each once converted (the peak of a large declarative
/// load): the same configuration, and nothing left of the rows.</summary>
public sealed class ConsumedRowsTests
{
    private static readonly EntityRegistry Registry = GatehouseEntities.Default;

    [Fact]
    public void Each_row_is_let_go_of_once_read_and_the_rows_are_read_once()
    {
        var rows = JsonTextRows.Of([new() { ["id"] = "a", ["n"] = 1 }, new() { ["id"] = "b", ["n"] = 2 }]);
        var consumed = new ConsumedRows(rows);
        var seen = new List<int>();
        foreach (var row in consumed)
        {
            seen.Add((int)row["n"]!);
            var handedOut = seen.Count - 1;
            Assert.Throws<InvalidOperationException>(() => rows[handedOut]); // let go of as soon as it is handed out
        }
        Assert.Equal([1, 2], seen);
        Assert.Equal(2, consumed.Count);
        Assert.Throws<InvalidOperationException>(() => consumed[0]);
        Assert.Throws<InvalidOperationException>(() => consumed.GetEnumerator());
    }

    [Fact]
    public void A_consuming_build_is_the_build_that_keeps_the_rows()
    {
        var loaded = new DeclarativeLoader(Registry, TimeProvider.System).Load(Encoding.UTF8.GetBytes(DeclarativePublishTests.VariedYaml()));
        Assert.True(loaded.IsValid, loaded.Error?.ToJson().ToJsonString());
        var kept = StoredRows.Of(Registry, loaded.Entities!);
        var owned = StoredRows.Of(Registry, loaded.Entities!);

        var expected = GatewayConfigBuilder.Build(Registry, kept, 7);
        var built = GatewayConfigBuilder.Build(Registry, owned, 7, consume: true);

        Assert.Equal(DeclarativePublishTests.Dump(expected), DeclarativePublishTests.Dump(built));
        Assert.NotEmpty(built.Routes);
        var vaults = Registry.ByName("vaults")!;
        // every row but the vaults' (converted first, and few) is gone from the lists once built
        Assert.All(owned.Where(e => e.Key != vaults), e => Assert.All(Enumerable.Range(0, e.Value.Count),
            i => Assert.Throws<InvalidOperationException>(() => e.Value[i])));
        Assert.All(kept.Values, rows => Assert.All(rows, r => Assert.NotNull(r)));
    }
}
