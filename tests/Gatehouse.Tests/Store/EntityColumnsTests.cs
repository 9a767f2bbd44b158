using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Entities;
using Gatehouse.Hosting;
using Gatehouse.Store;
using Gatehouse.Store.Declarative;

namespace Gatehouse.Tests.Store;

/// <summary>An indexed column's value read from a row's JSON text is the one read from its tree, for every entity's
/// indexed fields and for values a tree reads in its own way (a foreign key's forms, non-string values, escapes).</summary>
public sealed class EntityColumnsTests
{
    private static readonly FieldDefinition Name = new("name", FieldType.String) { Unique = true };
    private static readonly FieldDefinition Service = new("service", FieldType.Foreign) { Reference = "services" };

    [Fact]
    public void Every_indexed_field_of_every_loaded_row_reads_the_same_from_text_as_from_its_tree()
    {
        var registry = GatehouseEntities.Default;
        var loaded = new DeclarativeLoader(registry, TimeProvider.System).Load(Encoding.UTF8.GetBytes(DeclarativePublishTests.VariedYaml()));
        Assert.True(loaded.IsValid, loaded.Error?.Message);
        var compared = 0;
        foreach (var (schema, rows) in loaded.Entities!)
        {
            var indexed = EntityColumns.IndexedFields(schema).ToArray();
            var values = new string?[indexed.Length];
            var text = (JsonTextRows)rows;
            for (var r = 0; r < text.Count; r++)
            {
                EntityColumns.Values(text.TextAt(r).Span, indexed, values);
                var tree = text[r];
                for (var i = 0; i < indexed.Length; i++, compared++) Assert.Equal(EntityColumns.Value(tree, indexed[i]), values[i]);
            }
        }
        Assert.True(compared > 20, $"{compared} values compared");
    }

    [Theory]
    [InlineData("""{"service":null}""")]
    [InlineData("""{"name":null,"service":{"id":"not a uuid"}}""")]
    [InlineData("""{"service":"0b5e34a4-5c1e-4f4a-8f4e-1d2c3b4a5f60"}""")]
    [InlineData("""{"service":{"name":"x","id":"0B5E34A45C1E4F4A8F4E1D2C3B4A5F60","more":[1,{"id":2}]}}""")]
    [InlineData("""{"name":5}""")]
    [InlineData("""{"name":1.50,"other":{"name":"inner"}}""")]
    [InlineData("""{"name":{"b":[true,false,null,"\u00e9<"],"a":-0.0e1}}""")]
    [InlineData("""{"n\u0061me":"escaped \"name\"","x":[{"name":"no"}]}""")]
    [InlineData("""{}""")]
    public void A_value_reads_the_same_from_text_as_from_its_tree(string row)
    {
        FieldDefinition[] fields = [Name, Service];
        var values = new string?[] { "stale", "stale" };
        EntityColumns.Values(Encoding.UTF8.GetBytes(row), fields, values);
        var tree = JsonNode.Parse(row)!.AsObject();
        Assert.Equal(new[] { EntityColumns.Value(tree, Name), EntityColumns.Value(tree, Service) }.AsEnumerable(), values);
    }
}
