using System.Text;
using System.Text.Json.Nodes;

namespace Gatehouse.Tests.Admin;

/// <summary>
/// Admin API behaviours found different from Kong 3.9 with real Kong and decK usage (issue #11 §2), each as Kong's
/// source has it: <c>kong/api/routes/consumers.lua</c>, <c>kong/db/schema/typedefs.lua</c> (tag),
/// <c>kong/api/endpoints.lua</c> + <c>kong/db/dao/init.lua</c> (tag filter), <c>kong/api/routes/tags.lua</c>,
/// <c>kong/api/routes/kong.lua</c> (<c>/endpoints</c>, <c>/schemas/plugins/validate</c>), <c>kong/api/arguments.lua</c>.
/// </summary>
public class KongAdminDifferencesTests : AdminStoreTests
{
    private const string Form = "application/x-www-form-urlencoded";

    private async Task<JsonNode> Created(string path, object body)
    {
        var (status, entity) = await _host.PostAsync(path, body);
        Assert.True(status == 201, $"{path}: {status} {entity}");
        return entity!;
    }

    private Task<(int Status, JsonNode? Body)> PostForm(string path, string body) =>
        _host.SendRawAsync(HttpMethod.Post, path, Encoding.UTF8.GetBytes(body), Form);

    [Fact]
    public async Task Consumers_by_custom_id_is_a_list_of_that_consumer()
    {
        await Created("/consumers", new { username = "alice", custom_id = "c-1" });
        var bob = await Created("/consumers", new { username = "bob", custom_id = "c 2" });

        var (status, body) = await _host.GetAsync("/consumers?custom_id=c%202");
        Assert.Equal(200, status);
        var data = body!["data"]!.AsArray();
        Assert.Single(data);
        Assert.Equal((string?)bob["id"], (string?)data[0]!["id"]);
        Assert.True(body.AsObject().ContainsKey("next"));
        Assert.Null(body["next"]);

        var (missingStatus, missing) = await _host.GetAsync("/consumers?custom_id=nobody");
        Assert.Equal(200, missingStatus);
        Assert.Empty(missing!["data"]!.AsArray());
    }

    [Theory]
    [InlineData("/consumers?custom_id=")]
    [InlineData("/consumers?custom_id")]
    [InlineData("/consumers?custom_id=a&custom_id=b")]
    public async Task Empty_or_repeated_custom_id_is_400(string path)
    {
        await Created("/consumers", new { username = "alice", custom_id = "a" });
        var (status, body) = await _host.GetAsync(path);
        Assert.Equal(400, status);
        Assert.Equal("""{"message":"custom_id must be an unempty string"}""", body!.ToJsonString());
    }

    [Fact]
    public async Task Tags_may_hold_spaces_and_utf8_but_not_commas_slashes_or_controls()
    {
        var service = await Created("/services", new { name = "s", host = "s.test", tags = new[] { "team a", "café", "x~!" } });
        Assert.Equal(["team a", "café", "x~!"], service["tags"]!.AsArray().Select(t => (string)t!));

        foreach (var bad in new[] { "a,b", "a/b", "tab\there", "del\u007f" })
        {
            var (status, error) = await _host.PostAsync("/services", new { name = "t", host = "t.test", tags = new[] { bad } });
            Assert.Equal(400, status);
            Assert.Equal($"invalid tag '{bad}': expected printable ascii (except `,` and `/`) or valid utf-8 sequences",
                (string?)error!["fields"]!["tags"]![0]);
        }
    }

    [Theory]
    [InlineData("%FF")]          // not a UTF-8 byte at all
    [InlineData("a%09b")]        // a control character
    [InlineData("a,b/c")]        // both separators
    [InlineData(",a")]
    [InlineData("a,,b")]
    public async Task Tag_filters_kong_cannot_read_are_invalid_filter_syntax(string filter)
    {
        var (status, body) = await _host.GetAsync("/services?tags=" + filter);
        Assert.Equal(400, status);
        Assert.Equal("""{"code":11,"name":"invalid options","message":"invalid option (tags: invalid filter syntax)","fields":{"tags":"invalid filter syntax"}}""",
            body!.ToJsonString());
    }

    [Fact]
    public async Task Tag_filter_takes_spaces_a_trailing_separator_and_at_most_five_tags()
    {
        var spaced = await Created("/services", new { name = "s1", host = "s.test", tags = new[] { "team a", "b" } });
        await Created("/services", new { name = "s2", host = "s.test", tags = new[] { "b" } });

        var (s1, withSpace) = await _host.GetAsync("/services?tags=team%20a");
        Assert.Equal(200, s1);
        Assert.Equal([(string?)spaced["id"]], withSpace!["data"]!.AsArray().Select(e => (string?)e!["id"]));
        var (s2, trailing) = await _host.GetAsync("/services?tags=team+a,");
        Assert.Equal(200, s2);
        Assert.Single(trailing!["data"]!.AsArray());

        var (s3, tooMany) = await _host.GetAsync("/services?tags=a,b,c,d,e,f");
        Assert.Equal(400, s3);
        Assert.Equal("invalid option (tags: cannot query more than 5 tags)", (string?)tooMany!["message"]);
    }

    [Fact]
    public async Task Tags_lists_every_tagged_entity_and_pages()
    {
        var service = await Created("/services", new { name = "s", host = "s.test", tags = new[] { "blue", "red" } });
        var route = await Created("/routes", new { name = "r", paths = new[] { "/r" }, service = new { id = (string)service["id"]! }, tags = new[] { "blue" } });
        await Created("/consumers", new { username = "untagged" });

        var (status, all) = await _host.GetAsync("/tags");
        Assert.Equal(200, status);
        var expected = new[]
        {
            ("services", (string)service["id"]!, "blue"), ("services", (string)service["id"]!, "red"), ("routes", (string)route["id"]!, "blue"),
        };
        var listed = all!["data"]!.AsArray().Select(e => ((string)e!["entity_name"]!, (string)e["entity_id"]!, (string)e["tag"]!)).ToList();
        Assert.Equal(expected.OrderBy(e => e.Item2, StringComparer.Ordinal).ThenBy(e => e.Item3, StringComparer.Ordinal), listed);
        Assert.Null(all["next"]);

        var seen = new List<string>();
        string? next = "/tags?size=2";
        while (next is not null)
        {
            var (s, page) = await _host.GetAsync(next);
            Assert.Equal(200, s);
            seen.AddRange(page!["data"]!.AsArray().Select(e => (string)e!["entity_id"]! + (string)e["tag"]!));
            next = (string?)page["next"];
        }
        Assert.Equal(listed.Select(e => e.Item2 + e.Item3), seen);

        var (blueStatus, blue) = await _host.GetAsync("/tags/blue");
        Assert.Equal(200, blueStatus);
        Assert.Equal(2, blue!["data"]!.AsArray().Count);
        Assert.All(blue["data"]!.AsArray(), e => Assert.Equal("blue", (string?)e!["tag"]));
        Assert.Empty((await _host.GetAsync("/tags/green")).Body!["data"]!.AsArray());
    }

    [Fact]
    public async Task Tags_are_read_only_and_a_bad_tag_is_invalid_unique()
    {
        var (status, error) = await _host.GetAsync("/tags/a,b");
        Assert.Equal(400, status);
        Assert.Equal("invalid unique tag", (string?)error!["name"]);
        Assert.Equal(10, (int)error["code"]!);
        Assert.Equal("invalid tag 'a,b': expected printable ascii (except `,` and `/`) or valid utf-8 sequences", (string?)error["message"]);

        var (postStatus, post) = await _host.PostAsync("/tags", new { tag = "x", entity_name = "services" });
        Assert.Equal(400, postStatus);
        Assert.Equal("does not support insert/upsert/update/delete operations", (string?)post!["fields"]!["tags"]);
    }

    [Fact]
    public async Task Endpoints_lists_the_routes_with_kongs_parameter_names_in_segment_order()
    {
        var (status, body) = await _host.GetAsync("/endpoints");
        Assert.Equal(200, status);
        var paths = body!["data"]!.AsArray().Select(p => (string)p!).ToList();
        foreach (var expected in new[]
        {
            "/", "/services", "/services/{services}", "/services/{services}/routes/{routes}", "/routes/{routes}/service",
            "/consumers/{consumers}/plugins", "/tags", "/tags/{tags}", "/endpoints", "/schemas/plugins/validate",
            "/schemas/{db_entity_name}/validate", "/schemas/plugins/{name}", "/routes/{routes}/filters/enabled",
            "/filter-chains/{filter_chains}", "/services/{services}/filter-chains/{filter_chains}",
        })
            Assert.Contains(expected, paths);
        Assert.DoesNotContain(paths, p => p.Contains('*'));
        Assert.Equal(paths.Count, paths.Distinct().Count());
        Assert.Equal(paths.OrderBy(p => p.Replace('/', '\0'), StringComparer.Ordinal), paths);
    }

    [Fact]
    public async Task Schemas_plugins_validate_checks_the_plugins_own_config()
    {
        var (okStatus, ok) = await _host.PostAsync("/schemas/plugins/validate", new { name = "rate-limiting", config = new { minute = 5 } });
        Assert.Equal(200, okStatus);
        Assert.Equal("""{"message":"schema validation successful"}""", ok!.ToJsonString());

        var (badStatus, bad) = await _host.PostAsync("/schemas/plugins/validate", new { name = "rate-limiting", config = new { minute = "five" } });
        Assert.Equal(400, badStatus);
        Assert.Equal(2, (int)bad!["code"]!);
        Assert.Equal("expected a number", (string?)bad["fields"]!["config"]!["minute"]);
        Assert.Empty((await _host.GetAsync("/plugins")).Body!["data"]!.AsArray()); // validation stores nothing

        var (entityStatus, _) = await _host.PostAsync("/schemas/services/validate", new { host = "s.test" });
        Assert.Equal(200, entityStatus);
    }

    /// <summary>Kong's spec (04-plugins_routes_spec): every plugin's schema has <c>fields</c> and <c>entity_checks</c>
    /// arrays; empty arrays render as <c>[]</c>, never <c>{}</c> (request-transformer's empty-list defaults).</summary>
    [Fact]
    public async Task Plugin_schemas_have_field_and_check_arrays_and_empty_defaults_as_arrays()
    {
        var (_, enabled) = await _host.GetAsync("/plugins/enabled");
        var names = enabled!["enabled_plugins"]!.AsArray().Select(n => (string)n!).ToList();
        Assert.Contains("request-transformer", names);
        foreach (var name in names)
        {
            var (status, schema) = await _host.GetAsync("/schemas/plugins/" + name);
            Assert.Equal(200, status);
            Assert.IsType<JsonArray>(schema!["fields"]);
            Assert.IsType<JsonArray>(schema["entity_checks"]);
        }
        var text = await _host.Client.GetStringAsync("/schemas/plugins/request-transformer");
        Assert.DoesNotContain("\"entity_checks\":{", text, StringComparison.Ordinal);
        Assert.DoesNotContain("\"fields\":{", text, StringComparison.Ordinal);
        Assert.Contains("\"default\":[]", text, StringComparison.Ordinal);
        Assert.DoesNotContain("\"default\":{}", text, StringComparison.Ordinal);
        var (missingStatus, missing) = await _host.GetAsync("/schemas/plugins/not-present");
        Assert.Equal(404, missingStatus);
        Assert.Equal("No plugin named 'not-present'", (string?)missing!["message"]);
    }

    /// <summary>Kong's documented curl recipes (<c>-d config.minute=5</c>) send forms: values are inferred by the
    /// plugin's own config schema, nested records, arrays (<c>config.x[]</c>) and booleans included.</summary>
    [Fact]
    public async Task Form_plugin_config_is_inferred_by_the_plugins_schema()
    {
        var (s1, limit) = await PostForm("/plugins", "name=rate-limiting&config.minute=5&config.hour=100&config.policy=local&config.fault_tolerant=false");
        Assert.True(s1 == 201, limit?.ToJsonString());
        Assert.Equal(5, (double)limit!["config"]!["minute"]!);
        Assert.Equal(100, (double)limit["config"]!["hour"]!);
        Assert.False((bool)limit["config"]!["fault_tolerant"]!);

        var (s2, cors) = await PostForm("/plugins", "name=cors&config.origins[]=https://a.test&config.origins[]=https://b.test&config.max_age=60&config.credentials=true");
        Assert.True(s2 == 201, cors?.ToJsonString());
        Assert.Equal(["https://a.test", "https://b.test"], cors!["config"]!["origins"]!.AsArray().Select(o => (string)o!));
        Assert.Equal(60, (int)cors["config"]!["max_age"]!);
        Assert.True((bool)cors["config"]!["credentials"]!);

        var (s3, validated) = await PostForm("/schemas/plugins/validate", "name=rate-limiting&config.second=2");
        Assert.Equal(200, s3);
        Assert.Equal("schema validation successful", (string?)validated!["message"]);
    }

    /// <summary>Kong infers a foreign key with the referenced schema, so an empty <c>service.id=</c> is
    /// <c>{id = null}</c>: the primary key's "required field missing".</summary>
    [Fact]
    public async Task Empty_form_foreign_id_is_a_missing_primary_key()
    {
        var (status, error) = await PostForm("/routes", "paths[]=/r&service.id=");
        Assert.Equal(400, status);
        Assert.Equal("required field missing", (string?)error!["fields"]!["service"]!["id"]);
    }

    /// <summary>nginx's <c>decode_args</c> gives an argument without <c>=</c> the value <c>true</c>: a boolean flag.</summary>
    [Fact]
    public async Task Form_argument_without_a_value_is_true()
    {
        var (status, route) = await PostForm("/routes", "paths[]=/r&preserve_host&strip_path=false");
        Assert.True(status == 201, route?.ToJsonString());
        Assert.True((bool)route!["preserve_host"]!);
        Assert.False((bool)route["strip_path"]!);
    }

    /// <summary>Form bytes are bytes: raw UTF-8 in a form body (not percent-encoded) and its percent-encoded form
    /// decode to the same text, in urlencoded and multipart bodies alike.</summary>
    [Fact]
    public async Task Raw_utf8_in_form_and_multipart_bodies_is_decoded_once()
    {
        var (s1, raw) = await PostForm("/services", "name=s1&host=s.test&tags[]=café&tags[]=caf%C3%A9x");
        Assert.True(s1 == 201, raw?.ToJsonString());
        Assert.Equal(["café", "caféx"], raw!["tags"]!.AsArray().Select(t => (string)t!));

        using var multipart = new MultipartFormDataContent
        {
            { new StringContent("s2"), "name" }, { new StringContent("s.test"), "host" }, { new StringContent("naïve"), "tags[]" },
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/services") { Content = multipart };
        var (s2, parts) = await _host.SendAsync(request);
        Assert.Equal(201, s2);
        Assert.Equal(["naïve"], parts!["tags"]!.AsArray().Select(t => (string)t!));
    }
}

/// <summary>Every test of <see cref="KongAdminDifferencesTests"/> on PostgreSQL.</summary>
public sealed class KongAdminDifferencesTestsOnPostgres : KongAdminDifferencesTests
{
    private protected override AdminStore Store => AdminStore.Postgres;
}
