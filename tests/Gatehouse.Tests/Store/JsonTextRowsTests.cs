using System.Text.Json.Nodes;
using Gatehouse.Store;

namespace Gatehouse.Tests.Store;

/// <summary>Rows kept as their JSON text: each read is the text parsed (a tree of its own), ordering shares the text,
/// and a row let go of cannot be read.</summary>
public sealed class JsonTextRowsTests
{
    [Fact]
    public void A_row_reads_back_as_its_text_parsed_into_a_tree_of_its_own()
    {
        var rows = new JsonTextRows();
        var row = new JsonObject { ["id"] = "b", ["n"] = 1L, ["f"] = 1.5, ["tags"] = new JsonArray("x", "é"), ["on"] = true, ["none"] = null };
        rows.Add(row);
        row["n"] = 2L; // the tree is not kept: changing it changes nothing stored

        var read = rows[0];
        Assert.Equal("""{"id":"b","n":1,"f":1.5,"tags":["x","\u00E9"],"on":true,"none":null}""", read.ToJsonString());
        Assert.Equal("b", rows.IdAt(0));
        read["n"] = 3L; // a read is the caller's own
        Assert.Equal(1L, (long)rows[0]["n"]!);
        Assert.NotSame(rows[0], rows[0]);
        Assert.Throws<ArgumentException>(() => rows.Add(new JsonObject { ["n"] = 1 }));
    }

    [Fact]
    public void Ordered_by_id_is_the_stores_byte_order_and_letting_go_of_a_row_leaves_the_others()
    {
        var rows = JsonTextRows.Of([new() { ["id"] = "b" }, new() { ["id"] = "B" }, new() { ["id"] = "a", ["k"] = 1 }]);

        var ordered = rows.OrderedById();
        Assert.Equal(["B", "a", "b"], Enumerable.Range(0, ordered.Count).Select(ordered.IdAt));
        Assert.Equal(1, (int)ordered[1]["k"]!);

        ordered.Release(1);
        Assert.Throws<InvalidOperationException>(() => ordered[1]);
        Assert.Equal("a", ordered.IdAt(1));
        Assert.Equal(1, (int)rows[2]["k"]!); // the list it was ordered from still has its row
        Assert.Equal(["b", "B", "a"], rows.Select(r => (string)r["id"]!));
    }
}
