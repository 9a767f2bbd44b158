using System.Text.Json.Nodes;
using Gatehouse.Entities;

namespace Gatehouse.Tests.Entities;

/// <summary>One table per validator of the schema engine, on a synthetic entity that uses every feature.</summary>
public sealed class SchemaEngineTests
{
    private static readonly EntitySchema Schema = new()
    {
        Name = "widgets",
        SingularName = "widget",
        Fields =
        [
            Typedefs.Id(),
            new FieldDefinition("label", FieldType.String) { Required = true, LenMin = 2, LenMax = 5 },
            new FieldDefinition("count", FieldType.Integer) { Default = 3, Between = (0, 10) },
            new FieldDefinition("ratio", FieldType.Number),
            Typedefs.Bool("on", true, required: true),
            new FieldDefinition("kind", FieldType.String) { OneOf = ["a", "b"] },
            new FieldDefinition("code", FieldType.String) { Match = PatternRule.Of("^[A-Z]+$", "invalid value: %s") },
            new FieldDefinition("slug", FieldType.String)
            {
                StartsWith = "/", MatchNone = [PatternRule.Of("//", "must not have empty segments")],
                Custom = v => v.GetValue<string>().EndsWith('!') ? "no shouting" : null,
            },
            new FieldDefinition("either", FieldType.String) { MatchAny = [PatternRule.Of("^x", "must start with x or y"), PatternRule.Of("^y", "")] },
            new FieldDefinition("list", FieldType.Array) { Elements = new FieldDefinition("e", FieldType.Integer) },
            new FieldDefinition("uniq", FieldType.Set) { Elements = new FieldDefinition("e", FieldType.String) },
            new FieldDefinition("dict", FieldType.Map)
            {
                Keys = new FieldDefinition("k", FieldType.String) { Match = PatternRule.Of("^[a-z]+$", "bad key") },
                Values = new FieldDefinition("v", FieldType.Integer),
            },
            new FieldDefinition("rec", FieldType.Record)
            {
                Fields = [new FieldDefinition("p", FieldType.Integer), new FieldDefinition("q", FieldType.String) { Default = "dq" }],
                RecordChecks = [new AtLeastOneOfCheck(["p"])],
            },
            Typedefs.Foreign("owner", "owners"),
            Typedefs.Uuid("ref"),
            new FieldDefinition("left", FieldType.String),
            new FieldDefinition("right", FieldType.String),
            new FieldDefinition("mode", FieldType.String),
            new FieldDefinition("extra", FieldType.String),
            new FieldDefinition("level", FieldType.Integer) { Ne = 13, Gt = 0 },
            new FieldDefinition("colour", FieldType.String) { NotOneOf = ["red"] },
            new FieldDefinition("at", FieldType.Integer) { Timestamp = true },
            new FieldDefinition("pair", FieldType.Array) { LenEq = 2, Elements = new FieldDefinition("e", FieldType.String) },
        ],
        Checks =
        [
            new MutuallyExclusiveCheck(["left", "right"]),
            new ConditionalCheck("mode", v => v?.ToString() == "strict", "extra", ConditionalCheck.MustBeNull),
            new ConditionalAtLeastOneOfCheck("mode", v => v?.ToString() == "pick", ["left", "right"], "must set one of {0} when 'mode' is 'pick'"),
            new CustomEntityCheck(["label"], e => e["label"]?.ToString() == "bad" ? "label is bad" : null),

        ],
        Shorthands = [new ShorthandField("both", FieldType.String, v => new JsonObject { ["left"] = v.DeepClone(), ["right"] = v.DeepClone() })],
    };

    private static ValidationResult Run(string json) =>
        EntityValidator.Validate(Schema, JsonNode.Parse(json)!.AsObject(), ValidationContext.Insert);

    [Theory]
    [InlineData("""{"label":"ok","nope":1}""", "nope", "unknown field")]
    [InlineData("""{}""", "label", "required field missing")]
    [InlineData("""{"label":null}""", "label", "required field missing")]
    [InlineData("""{"label":5}""", "label", "expected a string")]
    [InlineData("""{"label":"ok","count":1.5}""", "count", "expected an integer")]
    [InlineData("""{"label":"ok","count":"1"}""", "count", "expected an integer")]
    [InlineData("""{"label":"ok","ratio":"x"}""", "ratio", "expected a number")]
    [InlineData("""{"label":"ok","on":"true"}""", "on", "expected a boolean")]
    [InlineData("""{"label":"ok","list":"x"}""", "list", "expected an array")]
    [InlineData("""{"label":"ok","uniq":1}""", "uniq", "expected a set")]
    [InlineData("""{"label":"ok","dict":[1]}""", "dict", "expected a map")]
    [InlineData("""{"label":"ok","rec":"x"}""", "rec", "expected a record")]
    public void Type_and_presence(string json, string field, string message) => AssertError(json, field, message);

    [Theory]
    [InlineData("""{"label":"ok","kind":"c"}""", "kind", "expected one of: a, b")]
    [InlineData("""{"label":"ok","count":11}""", "count", "value should be between 0 and 10")]
    [InlineData("""{"label":"ok","count":-1}""", "count", "value should be between 0 and 10")]
    [InlineData("""{"label":"x"}""", "label", "length must be at least 2")]
    [InlineData("""{"label":"toolong"}""", "label", "length must be at most 5")]
    [InlineData("""{"label":"ok","slug":"a"}""", "slug", "should start with: /")]
    [InlineData("""{"label":"ok","slug":"/a//b"}""", "slug", "must not have empty segments")]
    [InlineData("""{"label":"ok","slug":"/a!"}""", "slug", "no shouting")]
    [InlineData("""{"label":"ok","code":"abc"}""", "code", "invalid value: abc")]
    [InlineData("""{"label":"ok","either":"z"}""", "either", "must start with x or y")]
    [InlineData("""{"label":"ok","ref":"1234"}""", "ref", "expected a valid UUID")]
    [InlineData("""{"label":"ok","id":"00000000-0000-0000-0000-00000000000g"}""", "id", "expected a valid UUID")]
    [InlineData("""{"label":"ok","level":13}""", "level", "value must not be 13")]
    [InlineData("""{"label":"ok","level":0}""", "level", "value must be greater than 0")]
    [InlineData("""{"label":"ok","colour":"red"}""", "colour", "must not be one of: red")]
    [InlineData("""{"label":"ok","at":-5}""", "at", "expected a valid timestamp")]
    [InlineData("""{"label":"ok","pair":["a"]}""", "pair", "length must be 2")]
    public void Scalar_validators(string json, string field, string message) => AssertError(json, field, message);

    [Theory]
    [InlineData("""{"label":"ok","list":[1,"x",3,"y"]}""", "list", """[null,"expected an integer",null,"expected an integer"]""")]
    [InlineData("""{"label":"ok","dict":{"Bad":1,"ok":"x"}}""", "dict", """{"Bad":"bad key","ok":"expected an integer"}""")]
    [InlineData("""{"label":"ok","rec":{"q":"x"}}""", "rec", """{"@entity":["at least one of these fields must be non-empty: 'p'"]}""")]
    [InlineData("""{"label":"ok","rec":{"p":1,"z":2}}""", "rec", """{"z":"unknown field"}""")]
    [InlineData("""{"label":"ok","owner":{"id":"x"}}""", "owner", """{"id":"expected a valid UUID"}""")]
    [InlineData("""{"label":"ok","owner":{}}""", "owner", """{"id":"required field missing"}""")]
    public void Nested_errors_mirror_the_input(string json, string field, string expected)
    {
        var result = Run(json);
        Assert.False(result.IsValid);
        var relaxed = new System.Text.Json.JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        Assert.Equal(expected, result.Errors![field]!.ToJsonString(relaxed));
    }

    [Theory]
    [InlineData("""{"label":"ok","left":"l","right":"r"}""", "only one or none of these fields must be set: 'left', 'right'")]
    [InlineData("""{"label":"ok","mode":"pick"}""", "must set one of 'left', 'right' when 'mode' is 'pick'")]
    [InlineData("""{"label":"bad"}""", "label is bad")]
    [InlineData("""{"label":"ok","both":"x"}""", "only one or none of these fields must be set: 'left', 'right'")]
    public void Entity_checks(string json, string message)
    {
        var result = Run(json);
        Assert.False(result.IsValid);
        Assert.Equal(message, Assert.Single(result.Errors!["@entity"]!.AsArray())!.ToString());
    }

    private static readonly EntitySchema Credentials = new()
    {
        Name = "credentials",
        SingularName = "credential",
        Fields = [new("user", FieldType.String), new("password", FieldType.String), new("one", FieldType.String), new("two", FieldType.String)],
        Checks = [new MutuallyRequiredCheck(["user", "password"]), new OnlyOneOfCheck(["one", "two"])],
    };

    [Theory]
    [InlineData("""{"one":"1"}""", null)]
    [InlineData("""{"user":"u","password":"p","two":"2"}""", null)]
    [InlineData("""{"user":"u","one":"1"}""", "all or none of these fields must be set: 'user', 'password'")]
    [InlineData("""{"one":"1","two":"2"}""", "exactly one of these fields must be non-empty: 'one', 'two'")]
    [InlineData("""{}""", "exactly one of these fields must be non-empty: 'one', 'two'")]
    public void Mutually_required_and_only_one_of(string json, string? message)
    {
        var result = EntityValidator.Validate(Credentials, JsonNode.Parse(json)!.AsObject(), ValidationContext.Insert);
        if (message is null) Assert.True(result.IsValid);
        else Assert.Equal(message, Assert.Single(result.Errors!["@entity"]!.AsArray())!.ToString());
    }

    [Fact]
    public void Conditional_reports_on_the_then_field()
    {
        var result = Run("""{"label":"ok","mode":"strict","extra":"x"}""");
        Assert.Equal("value must be null", result.Errors!["extra"]!.ToString());
    }

    [Fact]
    public void Checks_are_skipped_when_their_fields_are_invalid()
    {
        var result = Run("""{"label":"ok","left":5,"right":"r"}""");
        Assert.Equal("expected a string", result.Errors!["left"]!.ToString());
        Assert.Null(result.Errors["@entity"]);
    }

    [Fact]
    public void Defaults_normalization_and_set_deduplication()
    {
        var result = Run("""{"label":"ok","uniq":["b","a","b"],"rec":{"p":1},"count":2.0}""");
        Assert.True(result.IsValid);
        var e = result.Entity!;
        Assert.Equal(2, (long)e["count"]!);
        Assert.True((bool)e["on"]!);
        Assert.Equal("""["b","a"]""", e["uniq"]!.ToJsonString());
        Assert.Equal("dq", e["rec"]!["q"]!.ToString());
        Assert.True(e.ContainsKey("ratio"));
        Assert.Null(e["ratio"]);
        Assert.Equal(3, (long)Run("""{"label":"ok"}""").Entity!["count"]!);
    }

    [Fact]
    public void Update_context_does_not_apply_defaults()
    {
        var result = EntityValidator.Validate(Schema, JsonNode.Parse("""{"label":"ok","on":false}""")!.AsObject(), ValidationContext.Update);
        Assert.True(result.IsValid);
        Assert.Null(result.Entity!["count"]);
    }

    [Fact]
    public void Messages_follow_kong_ordering()
    {
        var fields = Run("""{"label":"bad","zeta":1,"count":99,"list":[1,"x"]}""").Errors!;
        Assert.Equal("4 schema violations (label is bad; count: value should be between 0 and 10; list.2: expected an integer; zeta: unknown field)",
            ErrorMessages.SchemaViolation(fields));
        var single = new JsonObject { ["@entity"] = new JsonArray("boom") };
        Assert.Equal("schema violation (boom)", ErrorMessages.SchemaViolation(single));
    }

    private static void AssertError(string json, string field, string message)
    {
        var result = Run(json);
        Assert.False(result.IsValid);
        Assert.Equal(message, result.Errors![field]?.ToString());
    }
}
