using System.Text.Json.Nodes;
using Gatehouse.Entities;
using Gatehouse.Entities.Schemas;
using Gatehouse.Store.Declarative;
using Xunit;

namespace Gatehouse.Tests.Store;

/// <summary>
/// <c>GET /config</c>'s YAML reads back as the rows it was written from: strings a YAML reader would take for
/// something else stay strings (quoted), numbers, booleans and nulls keep their type, nested config keeps its shape,
/// foreign keys become plain ids, null fields are left out.
/// </summary>
public sealed class DeclarativeExporterTests
{
    private static readonly EntitySchema Widgets = new()
    {
        Name = "widgets",
        SingularName = "widget",
        Fields =
        [
            Typedefs.Id(), Typedefs.Utf8Name(),
            Typedefs.Foreign("service", "services", OnDelete.Cascade),
            new FieldDefinition("config", FieldType.Json),
        ],
    };

    private static readonly string[] Tricky =
    [
        "", "true", "False", "yes", "No", "on", "OFF", "y", "null", "~", "123", "-7", "+1", "0x1F", "0o17", "1e3", ".5", "1.0",
        ".inf", "-.Inf", ".nan", "2026-12-04", "<<", "=", "- item", "a: b", "#comment", "[x]", "{y}", "&anchor", "*alias",
        "!tag", "|", ">", "%directive", "@at", "`tick", "it's", "say \"hi\"", "two\nlines", " padded ", "tab\there",
        "trailing:", "ünïcødé", "a #b", "1_000", "190:20:30", "0b101", "2026-12-04T10:00:00Z", "0.", "1.2.3", "127.0.0.1",
    ];

    [Fact]
    public void Every_value_reads_back_with_its_type_and_text()
    {
        var serviceId = Guid.NewGuid().ToString();
        var config = new JsonObject
        {
            ["strings"] = new JsonArray(Tricky.Select(t => (JsonNode)JsonValue.Create(t)).ToArray()),
            ["numbers"] = new JsonArray(0, -3, 42L, 1.5, 1e20, 0.1),
            ["flags"] = new JsonArray(true, false),
            ["nothing"] = null,
            ["empty_list"] = new JsonArray(),
            ["empty_map"] = new JsonObject(),
            ["nested"] = new JsonObject { ["true"] = "key that looks like a boolean", ["123"] = new JsonObject { ["deep"] = new JsonArray("x") } },
        };
        var rows = new Dictionary<EntitySchema, IReadOnlyList<JsonObject>>
        {
            [ServiceEntity.Schema] = [new JsonObject { ["id"] = serviceId, ["name"] = "yes", ["host"] = "10.0.0.1", ["port"] = 8080, ["path"] = null }],
            [Widgets] =
            [
                new JsonObject { ["id"] = Guid.NewGuid().ToString(), ["name"] = "w", ["service"] = new JsonObject { ["id"] = serviceId }, ["config"] = config },
            ],
        };

        var yaml = DeclarativeExporter.ToYaml(new EntityRegistry([ServiceEntity.Schema, Widgets]), rows);
        var read = BoundedYamlReader.Read(yaml)!.AsObject();

        Assert.Equal("3.0", (string?)read["_format_version"]);
        Assert.False((bool)read["_transform"]!);
        var service = read["services"]![0]!.AsObject();
        Assert.Equal("yes", (string?)service["name"]);
        Assert.Equal(8080, (long)service["port"]!);
        Assert.False(service.ContainsKey("path"));
        var widget = read["widgets"]![0]!.AsObject();
        Assert.Equal(serviceId, (string?)widget["service"]);
        var back = widget["config"]!.AsObject();
        Assert.Equal(Tricky, back["strings"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Equal("[0,-3,42,1.5,1E+20,0.1]", back["numbers"]!.ToJsonString());
        Assert.Equal("[true,false]", back["flags"]!.ToJsonString());
        Assert.True(back.ContainsKey("nothing"));
        Assert.Null(back["nothing"]);
        Assert.Empty(back["empty_list"]!.AsArray());
        Assert.Empty(back["empty_map"]!.AsObject());
        Assert.Equal("""{"true":"key that looks like a boolean","123":{"deep":["x"]}}""", back["nested"]!.ToJsonString());
    }

    [Fact]
    public void Strings_another_reader_would_retype_are_quoted_and_plain_text_is_not()
    {
        var rows = new Dictionary<EntitySchema, IReadOnlyList<JsonObject>>
        {
            [ServiceEntity.Schema] = [new JsonObject { ["id"] = "4e97cbff-7273-5c15-9cee-5a2b20748ab2", ["name"] = "on", ["host"] = "127.0.0.1", ["port"] = 80 }],
        };
        var yaml = DeclarativeExporter.ToYaml(new EntityRegistry([ServiceEntity.Schema]), rows);

        Assert.Contains("name: \"on\"", yaml, StringComparison.Ordinal); // YAML 1.1 (Kong's lyaml) would read a boolean
        Assert.Contains("host: 127.0.0.1", yaml, StringComparison.Ordinal);
        Assert.Contains("id: 4e97cbff-7273-5c15-9cee-5a2b20748ab2", yaml, StringComparison.Ordinal);
        Assert.Contains("port: 80", yaml, StringComparison.Ordinal);
        Assert.StartsWith("_format_version: \"3.0\"\n_transform: false\n", yaml, StringComparison.Ordinal);
    }
}
