using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Tests.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;

namespace Gatehouse.Tests.Plugins;

/// <summary>request-transformer through the real proxy: multipart bodies (Kong's lua-multipart rules) and
/// <c>$(…)</c> templates over headers, query_params, uri_captures and kong.ctx.shared, with Kong's failure (500) when
/// a template cannot render and the write-time refusal of expressions Gatehouse does not evaluate.</summary>
public sealed class RequestTransformerTests : IAsyncLifetime
{
    private PluginGateway _gw = null!;

    public async Task InitializeAsync() => _gw = await PluginGateway.StartAsync(SharedValuePlugin.Register);

    public async Task DisposeAsync() => await _gw.DisposeAsync();

    [Fact]
    public async Task Multipart_bodies_are_transformed_and_untouched_parts_arrive_as_sent()
    {
        await _gw.ServiceAndRouteAsync("svc", "/api");
        await _gw.CreateAsync("/routes/svc-route/plugins", new
        {
            name = "request-transformer",
            config = new
            {
                remove = new { body = new[] { "drop" } },
                rename = new { body = new[] { "old:new" } },
                replace = new { body = new[] { "mode:fast", "absent:x" } },
                add = new { body = new[] { "added:yes", "kept:no" } },
                append = new { body = new[] { "tags:b" } },
            },
        });
        using var form = new MultipartFormDataContent("rt-boundary");
        form.Add(new StringContent("gone"), "drop");
        form.Add(new StringContent("renamed value"), "old");
        form.Add(new StringContent("slow"), "mode");
        form.Add(new StringContent("k"), "kept");
        form.Add(new StringContent("a"), "tags");
        var file = new ByteArrayContent("bytes\r\n--not-a-boundary"u8.ToArray());
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(file, "upload", "data.bin");

        using var response = await _gw.Proxy.PostAsync("/api", form);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var echo = await response.EchoAsync();
        Assert.Equal(Encoding.UTF8.GetByteCount(echo.Body).ToString(CultureInfo.InvariantCulture), echo.Header("Content-Length"));
        var parts = await PartsAsync(echo.Body, "rt-boundary");
        // lua-multipart: renamed, replaced and added fields become plain parts at the end; append is not applied.
        Assert.Equal(["kept", "tags", "upload", "new", "mode", "added"], parts.Select(p => p.Name));
        Assert.Equal(["k", "a", "bytes\r\n--not-a-boundary", "renamed value", "fast", "yes"], parts.Select(p => p.Value));
        Assert.Contains("filename=data.bin", parts[2].Disposition, StringComparison.Ordinal);
        Assert.Equal("application/octet-stream", parts[2].ContentType);
    }

    [Fact]
    public async Task Templates_render_headers_query_captures_and_shared_values_as_the_request_arrived()
    {
        await _gw.CreateAsync("/services", new { name = "tpl", url = $"http://127.0.0.1:{_gw.Upstream.Port}/base" });
        await _gw.CreateAsync("/services/tpl/routes", new { name = "tpl-route", paths = new[] { "~/users/(?<user>[a-z]+)/(\\d+)$" } });
        await _gw.CreateAsync("/routes/tpl-route/plugins", new { name = "shared-value", config = new { key = "my_version", value = "v2" } });
        await _gw.CreateAsync("/routes/tpl-route/plugins", new
        {
            name = "request-transformer",
            config = new
            {
                remove = new { headers = new[] { "x-source" } },
                replace = new { uri = "/renamed/$(uri_captures.user)/$(uri_captures[0])" },
                add = new
                {
                    headers = new[]
                    {
                        "x-user:$(uri_captures.user)", "x-first:$(uri_captures[1])", "x-second:$(uri_captures[2])", "x-old:$(headers.x_source)",
                        "x-bracket:$(headers[\"X-Source\"])", "x-default:$(headers.x_missing or \"fallback\")",
                        "x-empty:[$(query_params.nothing)]", "x-literal:$('$(uri_captures.user)')",
                        "x-shared:$(shared.my_version)-$(shared.absent or 'none')", "x-number:$(10)",
                    },
                    querystring = new[] { "copy:$(query_params.q)-$(uri_captures.user)" },
                },
            },
        });

        using var request = new HttpRequestMessage(HttpMethod.Get, "/users/alice/42?q=hello");
        request.Headers.Add("X-Source", "from-client");
        using var response = await _gw.Proxy.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var echo = await response.EchoAsync();
        Assert.Equal("/renamed/alice//users/alice/42", echo.Path);
        Assert.Null(echo.Header("x-source"));
        Assert.Equal("alice", echo.Header("x-user"));
        Assert.Equal("alice", echo.Header("x-first")); // PCRE numbering: the named group is capture 1
        Assert.Equal("42", echo.Header("x-second"));
        Assert.Equal("from-client", echo.Header("x-old")); // the value before this plugin removed the header
        Assert.Equal("from-client", echo.Header("x-bracket"));
        Assert.Equal("fallback", echo.Header("x-default"));
        Assert.Equal("[]", echo.Header("x-empty"));
        Assert.Equal("$(uri_captures.user)", echo.Header("x-literal"));
        Assert.Equal("v2-none", echo.Header("x-shared"));
        Assert.Equal("10", echo.Header("x-number"));
        Assert.Contains("copy=hello-alice", echo.Query, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_template_that_cannot_render_answers_500_and_unsupported_expressions_are_refused_at_write_time()
    {
        await _gw.ServiceAndRouteAsync("svc", "/api");
        await _gw.CreateAsync("/routes/svc-route/plugins", new
        {
            name = "request-transformer",
            config = new { add = new { headers = new[] { "x-copy:$(query_params.m)" } } },
        });
        using var ok = await _gw.Proxy.GetAsync("/api?m=one");
        Assert.Equal("one", (await ok.EchoAsync()).Header("x-copy"));

        // A repeated argument is a Lua table: concatenating it fails, and Kong answers 500.
        using var failed = await _gw.Proxy.GetAsync("/api?m=one&m=two");
        Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        Assert.Equal("An unexpected error occurred", (string?)JsonNode.Parse(await failed.Content.ReadAsStringAsync())!["message"]);

        foreach (var value in new[] { "$(type(headers))", "$(headers.a .. 'x')", "$(os.exit())", "$(headers)", "$(headers.a.b)" })
        {
            var (status, body) = await _gw.PostAsync("/plugins", new { name = "request-transformer", config = new { add = new { querystring = new[] { "q:" + value } } } });
            Assert.Equal(400, status);
            var error = body!["fields"]!["config"]!["add"]!["querystring"]!.ToJsonString();
            Assert.Contains($"is not in supported format", error, StringComparison.Ordinal);
            Assert.Contains("Gatehouse does not run Lua", error, StringComparison.Ordinal);
        }
        var (uriStatus, uriBody) = await _gw.PostAsync("/plugins", new { name = "request-transformer", config = new { replace = new { uri = "/$(ERROR())" } } });
        Assert.Equal(400, uriStatus);
        Assert.NotNull(uriBody!["fields"]!["config"]!["replace"]!["uri"]);
        Assert.Equal(1, (int)(await _gw.GetAsync("/plugins")).Body!["data"]!.AsArray().Count); // nothing else stored
    }

    [Fact]
    public async Task Http_method_get_moves_form_arguments_into_the_query_string()
    {
        await _gw.ServiceAndRouteAsync("svc", "/api");
        await _gw.CreateAsync("/routes/svc-route/plugins", new { name = "request-transformer", config = new { http_method = "GET" } });
        using var response = await _gw.Proxy.PostAsync("/api?a=0", new StringContent("a=1&b=x%20y", Encoding.UTF8, "application/x-www-form-urlencoded"));
        var echo = await response.EchoAsync();
        Assert.Equal("GET", echo.Method);
        Assert.Equal(["a=0", "a=1", "b=x%20y"], echo.Query.TrimStart('?').Split('&').Order(StringComparer.Ordinal));
    }

    /// <summary>One form decoder, lossless: a byte that is not UTF-8 (<c>%FF</c>) stays that byte when the form is
    /// rewritten (body rename) or moved into the query string (http_method), where it used to become <c>%25FF</c>.</summary>
    [Fact]
    public async Task Form_bytes_that_are_not_utf8_reach_the_upstream_as_sent()
    {
        await _gw.ServiceAndRouteAsync("get", "/get");
        await _gw.CreateAsync("/routes/get-route/plugins", new { name = "request-transformer", config = new { http_method = "GET" } });
        await _gw.ServiceAndRouteAsync("rename", "/rename");
        await _gw.CreateAsync("/routes/rename-route/plugins", new { name = "request-transformer", config = new { rename = new { body = new[] { "a:b" } } } });

        using var moved = await _gw.Proxy.PostAsync("/get", new StringContent("a=%FF&c=%C3%A9", Encoding.UTF8, "application/x-www-form-urlencoded"));
        var query = (await moved.EchoAsync()).Query.TrimStart('?').Split('&').Order(StringComparer.Ordinal);
        Assert.Equal(["a=%FF", "c=%C3%A9"], query);

        using var renamed = await _gw.Proxy.PostAsync("/rename", new StringContent("a=%FF&c=%C3%A9", Encoding.UTF8, "application/x-www-form-urlencoded"));
        Assert.Equal(["b=%FF", "c=%C3%A9"], (await renamed.EchoAsync()).Body.Split('&').Order(StringComparer.Ordinal));
    }

    private static async Task<List<(string? Name, string Value, string Disposition, string? ContentType)>> PartsAsync(string body, string boundary)
    {
        var reader = new MultipartReader(boundary, new MemoryStream(Encoding.UTF8.GetBytes(body)));
        var parts = new List<(string?, string, string, string?)>();
        while (await reader.ReadNextSectionAsync() is { } section)
        {
            var disposition = ContentDispositionHeaderValue.Parse(section.ContentDisposition!);
            parts.Add((disposition.Name?.Trim('"'), await new StreamReader(section.Body).ReadToEndAsync(), section.ContentDisposition!, section.ContentType));
        }
        return parts;
    }
}
