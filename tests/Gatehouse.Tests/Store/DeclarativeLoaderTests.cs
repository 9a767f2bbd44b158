using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Hosting;
using Gatehouse.Entities;
using Gatehouse.Entities.Schemas;
using Gatehouse.Store;
using Gatehouse.Store.Declarative;

namespace Gatehouse.Tests.Store;

public sealed class DeclarativeLoaderTests
{
    private static readonly DeclarativeLoader Loader = new(GatehouseEntities.Default, TimeProvider.System);

    private static IReadOnlyList<JsonObject> Rows(DeclarativeResult r, EntitySchema s) => r.Entities![s];

    [Fact]
    public void Nested_yaml_with_generated_stable_ids()
    {
        const string yaml = """
            _format_version: "3.0"
            services:
              - name: a
                url: http://a.test
                routes:
                  - paths: [/a]
                  - name: named
                    hosts: [a.test]
            """;
        var r1 = Loader.Load(yaml);
        Assert.True(r1.IsValid, r1.Error?.Message);
        var r2 = Loader.Load(yaml);
        var service = Assert.Single(Rows(r1, ServiceEntity.Schema));
        Assert.Equal(2, Rows(r1, RouteEntity.Schema).Count);
        Assert.All(Rows(r1, RouteEntity.Schema), r => Assert.Equal(service["id"]!.ToString(), r["service"]!["id"]!.ToString()));
        Assert.Equal(Rows(r1, RouteEntity.Schema).Select(r => r["id"]!.ToString()), Rows(r2, RouteEntity.Schema).Select(r => r["id"]!.ToString()));
    }

    [Fact]
    public void Top_level_references_by_name_and_by_id_in_json()
    {
        var id = Guid.NewGuid();
        var json = $$"""
            {"_format_version":"3.0",
             "services":[{"id":"{{id}}","name":"s1","host":"s1.test"},{"name":"s2","host":"s2.test"}],
             "routes":[{"name":"by-id","service":"{{id}}","paths":["/1"]},{"name":"by-name","service":"s2","paths":["/2"]}]}
            """;
        var result = Loader.Load(Encoding.UTF8.GetBytes(json));
        Assert.True(result.IsValid, result.Error?.Message);
        var routes = Rows(result, RouteEntity.Schema).ToDictionary(r => r["name"]!.ToString());
        Assert.Equal(id.ToString(), routes["by-id"]["service"]!["id"]!.ToString());
        var s2 = Rows(result, ServiceEntity.Schema).Single(s => s["name"]!.ToString() == "s2");
        Assert.Equal(s2["id"]!.ToString(), routes["by-name"]["service"]!["id"]!.ToString());
    }

    [Theory]
    [InlineData("services: []", "_format_version", "required field missing")]
    [InlineData("_format_version: \"9.9\"", "_format_version", "expected one of: 1.1, 2.1, 3.0")]
    [InlineData("_format_version: \"3.0\"\nplanets: []", "planets", "unknown field")]
    [InlineData("_format_version: \"3.0\"\nservices: {}", "services", null)]
    public void Top_level_errors(string yaml, string field, string? message)
    {
        var result = Loader.Load(yaml);
        Assert.False(result.IsValid);
        Assert.Equal(DbErrorCode.DeclarativeConfig, result.Error!.Code);
        Assert.NotNull(result.Error.Fields![field]);
        if (message is not null) Assert.Equal(message, result.Error.Fields[field]!.ToString());
    }

    [Theory]
    [InlineData("tcp", "[tcp]", "stream")]
    [InlineData("ws", "[ws]", "ws and wss")]
    [InlineData("http", "[tls_passthrough]", "stream")]
    public void Stream_and_websocket_protocols_are_refused(string serviceProtocol, string routeProtocols, string kind)
    {
        var yaml = $"""
            _format_version: "3.0"
            services:
              - name: s
                host: a.test
                protocol: {serviceProtocol}
                routes:
                  - name: r
                    protocols: {routeProtocols}
                    snis: [a.test]
            """;
        var result = Loader.Load(yaml);
        Assert.False(result.IsValid);
        var service = result.Error!.Fields!["services"]![0]!;
        var routeError = service["routes"]![0]!["protocols"]!.ToString();
        Assert.StartsWith($"{kind} routes are not supported by Gatehouse", routeError);
        if (serviceProtocol != "http")
            Assert.StartsWith($"{kind} services are not supported by Gatehouse", service["protocol"]!.ToString());
    }

    [Fact]
    public void Unknown_reference_duplicate_names_and_parent_key_in_nested_item()
    {
        const string yaml = """
            _format_version: "3.0"
            services:
              - name: dup
                host: a.test
                routes:
                  - paths: [/x]
                    service: dup
              - name: dup
                host: b.test
            routes:
              - name: orphan
                service: missing
                paths: [/y]
            """;
        var result = Loader.Load(yaml);
        Assert.False(result.IsValid);
        var flattened = result.Error!.Extra!["flattened_errors"]!.AsArray();
        string[] messages = [.. flattened.SelectMany(e => e!["errors"]!.AsArray()).Select(e => e!["message"]!.ToString())];
        Assert.Contains("uniqueness violation: 'services' entity with name set to 'dup' already declared", messages);
        Assert.Contains("invalid reference 'service: missing' (no such entry in 'services')", messages);
        Assert.Contains("value must be null", messages);
        Assert.Equal("value must be null", result.Error.Fields!["services"]![0]!["routes"]![0]!["service"]!.ToString());
    }

    [Theory]
    [InlineData("_format_version: \"3.0\"\nservices:\n  - name: [unclosed\n")]
    [InlineData("{\"_format_version\": \"3.0\", ")]
    [InlineData("- just\n- a list\n")]
    public void Syntax_errors_are_declarative_errors(string text)
    {
        var result = Loader.Load(text);
        Assert.False(result.IsValid);
        Assert.Equal(400, result.Error!.HttpStatus);
        Assert.StartsWith("failed parsing declarative configuration", (string?)result.Error.Fields!["error"]);
    }

    /// <summary>Malformed YAML on which YamlDotNet's scanner throws something other than YamlException
    /// (found by the declarative parser fuzz target, D3): still Kong's declarative error, never an exception.</summary>
    [Theory]
    [InlineData("routes: [\nconsu")]
    [InlineData("a:: []*a")]
    [InlineData("...\n{\"a\"")]
    [InlineData("a: [!!binar[y []]")]
    public void Yaml_the_scanner_chokes_on_is_a_declarative_error(string text)
    {
        var result = Loader.Load(Encoding.UTF8.GetBytes(text));
        Assert.False(result.IsValid);
        Assert.Equal(14, (int)result.Error!.Code);
        Assert.StartsWith("failed parsing declarative configuration: failed parsing YAML", (string?)result.Error.Fields!["error"]);
    }

    /// <summary>A repeated JSON member keeps its last value, as Kong's cjson does (D4).</summary>
    [Fact]
    public void Json_duplicate_member_keeps_the_last_value()
    {
        var result = Loader.Load("{\"_format_version\":\"3.0\",\"services\":[{\"name\":\"a\",\"host\":\"a.test\",\"host\":\"b.test\"}]}");
        Assert.True(result.IsValid, result.Error?.Message);
        Assert.Equal("b.test", (string?)Rows(result, GatehouseEntities.Default.ByName("services")!)[0]["host"]);
    }

    /// <summary>Records are loaded from a compact copy of the file, not its tree: what reaches a row or an error report
    /// is what the tree held — JSON numbers as written, YAML's floats and integers, and a float beyond double's range
    /// still no integer.</summary>
    [Fact]
    public void Values_reach_the_rows_and_reports_as_the_file_gives_them()
    {
        const string json = """
            {"_format_version": "3.0",
             "services": [{"name": "a", "host": "a.test", "port": 8080.0, "connect_timeout": 1e3},
                          {"name": "b", "host": "b.test", "extra": {"ratio": 1.0, "big": 12345678901234567890, "exp": 2e3, "s": "é\u00e9", "n": null}}]}
            """;
        var result = Loader.Load(Encoding.UTF8.GetBytes(json));
        Assert.False(result.IsValid);
        var reported = result.Error!.Extra!["flattened_errors"]!.AsArray().Single()!["entity"]!["extra"]!;
        Assert.Equal("""{"ratio":1.0,"big":12345678901234567890,"exp":2e3,"s":"éé","n":null}""",
            reported.ToJsonString(new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
        var valid = Loader.Load(Encoding.UTF8.GetBytes(json.Replace(""", "extra": {"ratio": 1.0, "big": 12345678901234567890, "exp": 2e3, "s": "é\u00e9", "n": null}""", "")));
        Assert.True(valid.IsValid, valid.Error?.Message);
        var service = Rows(valid, ServiceEntity.Schema)[0];
        Assert.Equal(8080, (long)service["port"]!);
        Assert.Equal(1000, (long)service["connect_timeout"]!);

        var yaml = Loader.Load("""
            _format_version: "3.0"
            services:
              - name: a
                host: a.test
                port: 1e400
              - name: b
                host: b.test
                connect_timeout: 1.0e3
                retries: -3
            """);
        Assert.False(yaml.IsValid);
        var fields = yaml.Error!.Fields!["services"]!;
        Assert.Equal("expected an integer", (string?)fields[0]!["port"]);
        Assert.Equal("value should be between 0 and 32767", (string?)fields[1]!["retries"]);
        Assert.Null(fields[1]!["connect_timeout"]);
    }

    /// <summary>A caller that loads a large file collects between parsing and validating (the file's tree is garbage
    /// by then): the hook runs once for a file that parses, whatever its records hold, and never for one that does not.</summary>
    [Fact]
    public void The_parsed_hook_runs_once_between_parsing_and_validation()
    {
        var calls = 0;
        var invalid = Loader.Load("_format_version: \"3.0\"\nservices:\n  - name: a\n"u8, () => calls++);
        Assert.False(invalid.IsValid);
        Assert.Equal(1, calls);
        var valid = Loader.Load("_format_version: \"3.0\"\nservices:\n  - name: a\n    host: a.test\n"u8, () => calls++);
        Assert.True(valid.IsValid, valid.Error?.Message);
        Assert.Equal(2, calls);
        var unparsable = Loader.Load("services: [\n"u8, () => calls++);
        Assert.False(unparsable.IsValid);
        Assert.Equal(2, calls);
    }

    /// <summary>A lone surrogate escape has no UTF-8 form: a parse error, as the Admin body reader answers (D5).</summary>
    [Theory]
    [InlineData("{\"_format_version\":\"3.0\",\"services\":[{\"name\":\"\\ud800\",\"host\":\"a.test\"}]}")]
    [InlineData("{\"_format_version\":\"3.0\",\"services\":[{\"\\udc00\":1}]}")]
    public void Json_lone_surrogate_escape_is_a_parse_error(string text)
    {
        var result = Loader.Load(Encoding.UTF8.GetBytes(text));
        Assert.False(result.IsValid);
        Assert.Equal(14, (int)result.Error!.Code);
        Assert.Contains("failed parsing JSON", result.Error.Message);
        Assert.Contains("surrogate", result.Error.Message);
    }

    [Fact]
    public void Non_utf8_file_is_rejected()
    {
        byte[] bytes = [.. "_format_version: \"3.0\"\nservices:\n  - name: x"u8, 0xC3, 0x28, .. "\n    host: a.test\n"u8];
        var result = Loader.Load(bytes);
        Assert.False(result.IsValid);
        Assert.Contains("invalid utf-8", result.Error!.Message);
    }

    [Fact]
    public void Example_file_from_config_init_is_valid()
    {
        using var dir = new TempDir();
        var path = dir.File("kong.yml");
        Assert.Equal(0, StoreCommands.InitDeclarative(path, TextWriter.Null, TextWriter.Null));
        Assert.Equal(1, StoreCommands.InitDeclarative(path, TextWriter.Null, TextWriter.Null));
        var stdout = new StringWriter();
        Assert.Equal(0, StoreCommands.ParseDeclarative(path, GatehouseEntities.Default, stdout, TextWriter.Null));
        Assert.Contains("1 services, 1 routes", stdout.ToString());

        File.WriteAllText(path, "_format_version: \"3.0\"\nservices:\n  - name: bad\n    port: -1\n");
        var stderr = new StringWriter();
        Assert.Equal(1, StoreCommands.ParseDeclarative(path, GatehouseEntities.Default, TextWriter.Null, stderr));
        Assert.Contains("port: value should be between 0 and 65535", stderr.ToString());
        Assert.Contains("host: required field missing", stderr.ToString());
    }

    [Fact]
    public void Yaml_scalars_follow_the_core_schema()
    {
        const string yaml = """
            _format_version: "3.0"
            services:
              - name: "123"
                host: a.test
                port: 8080
                enabled: false
                tags: ["1", true-ish]
            """;
        var result = Loader.Load(yaml);
        Assert.True(result.IsValid, result.Error?.Message);
        var s = Assert.Single(Rows(result, ServiceEntity.Schema));
        Assert.Equal("123", s["name"]!.ToString());
        Assert.Equal(8080, (long)s["port"]!);
        Assert.False((bool)s["enabled"]!);
        // a quoted "1" stays a string and "true-ish" is a plain string (only true/false are booleans)
        Assert.Equal(["1", "true-ish"], s["tags"]!.AsArray().Select(t => t!.GetValue<string>()));
    }

    /// <summary>Records are completed in place (id, parent reference, timestamps): an error report still shows each
    /// record as given, without its _comment and nested children and with its derived id appended.</summary>
    [Fact]
    public void Error_reports_show_records_as_given()
    {
        const string yaml = """
            _format_version: "3.0"
            services:
              - name: s
                host: s.test
                _comment: kept out
                routes:
                  - name: nested
                    paths: [relative]
                    created_at: null
            routes:
              - name: top
                service: s
                paths: [/ok]
                hosts: [1]
            """;
        var result = Loader.Load(yaml);
        Assert.False(result.IsValid);
        var entities = result.Error!.Extra!["flattened_errors"]!.AsArray()
            .ToDictionary(e => e!["entity_name"]!.ToString(), e => e!["entity"]!.AsObject());
        Assert.Equal(2, entities.Count);
        string Shown(JsonObject entity)
        {
            Assert.Equal("id", entity.Last().Key); // derived, appended
            Assert.True(Guid.TryParse(entity["id"]!.GetValue<string>(), out _));
            var copy = entity.DeepClone().AsObject();
            copy.Remove("id");
            return copy.ToJsonString();
        }
        Assert.Equal("""{"name":"nested","paths":["relative"],"created_at":null}""", Shown(entities["nested"]));
        Assert.Equal("""{"name":"top","service":"s","paths":["/ok"],"hosts":[1]}""", Shown(entities["top"]));
    }

    [Fact]
    public void Loading_a_tree_leaves_it_as_given()
    {
        var root = JsonNode.Parse("""
            {"_format_version":"3.0","services":[{"name":"s","host":"s.test","_comment":"c","routes":[{"paths":["/a"]}]}],
             "routes":[{"name":"r","service":"s","paths":["/b"]}]}
            """)!;
        var before = root.ToJsonString();
        var result = Loader.Load(root);
        Assert.True(result.IsValid, result.Error?.Message);
        Assert.Equal(before, root.ToJsonString());
    }

    /// <summary>RFC 4122 version 5 ids: the RFC's DNS example, and Kong's declarative namespace with a short name and a
    /// long one (values from Python's uuid.uuid5).</summary>
    [Theory]
    [InlineData("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "www.example.com", "2ed6657d-e927-568b-95e1-2665a8aea6a2")]
    [InlineData("fd02801f-0957-4a15-a55a-c8d9606f30b5", "routes:r00001", "74a02290-024f-59dd-a4fb-e164b757989b")]
    [InlineData("fd02801f-0957-4a15-a55a-c8d9606f30b5", "long", "37a82ffd-abd8-5169-8ce2-3d2bb6ccb105")]
    public void Generated_ids_are_uuid_v5(string ns, string name, string expected)
    {
        if (name == "long") name = "services:" + new string('ü', 300);
        Assert.Equal(Guid.Parse(expected), Uuid5.Create(Guid.Parse(ns), name));
    }
}
