using System.Text.Json.Nodes;
using Gatehouse.Admin;
using Gatehouse.Entities;
using Xunit;

namespace Gatehouse.Tests.Admin;

/// <summary>Kong's <c>infer</c> (<c>kong/api/arguments.lua</c>) on a schema shaped like a filter chain and a
/// plugin: arrays of records, booleans and numbers inside them, <c>json</c> fields left as sent, and a field whose
/// definition the input chooses (a plugin's <c>config</c> by its <c>name</c>).</summary>
public sealed class FormValueInferenceTests
{
    private static readonly FieldDefinition ChosenConfig = new("config", FieldType.Record)
    {
        Fields = [new FieldDefinition("minute", FieldType.Number), new FieldDefinition("enabled", FieldType.Boolean)],
    };

    private static readonly EntitySchema Schema = new()
    {
        Name = "things",
        SingularName = "thing",
        Fields =
        [
            new FieldDefinition("name", FieldType.String),
            new FieldDefinition("filters", FieldType.Array)
            {
                Elements = new FieldDefinition("filter", FieldType.Record)
                {
                    Fields =
                    [
                        new FieldDefinition("name", FieldType.String),
                        new FieldDefinition("enabled", FieldType.Boolean),
                        new FieldDefinition("config", FieldType.Json),
                    ],
                },
            },
            new FieldDefinition("config", FieldType.Json) { ResolveFrom = data => (string?)data["name"] == "limited" ? ChosenConfig : null },
        ],
    };

    private static JsonObject Infer(params (string Key, string Value)[] form) =>
        FormValueInference.Infer(Schema, FormArgumentDecoder.Decode(form.Select(a => KeyValuePair.Create(a.Key, (string?)a.Value))));

    [Fact]
    public void Records_in_arrays_get_their_types_and_json_fields_stay_strings()
    {
        var result = Infer(("filters[1].name", "a"), ("filters[1].enabled", "false"), ("filters[1].config", "5"),
            ("filters[2].name", "b"), ("filters[2].enabled", "true"));
        Assert.Equal("""[{"name":"a","enabled":false,"config":"5"},{"name":"b","enabled":true}]""", result["filters"]!.ToJsonString());
    }

    [Fact]
    public void A_field_chosen_by_the_input_is_inferred_with_the_chosen_definition()
    {
        Assert.Equal("""{"minute":5,"enabled":false}""",
            Infer(("name", "limited"), ("config.minute", "5"), ("config.enabled", "false"))["config"]!.ToJsonString());
        Assert.Equal("""{"minute":"5"}""", Infer(("name", "other"), ("config.minute", "5"))["config"]!.ToJsonString());
    }
}
