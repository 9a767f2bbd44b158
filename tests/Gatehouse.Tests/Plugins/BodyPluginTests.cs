using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Tests.Infrastructure;

namespace Gatehouse.Tests.Plugins;

/// <summary>Plugins that read or rewrite request bodies, through the real proxy: request-transformer's body
/// actions on JSON and form bodies, request-size-limiting on chunked bodies.</summary>
public sealed class BodyPluginTests : IAsyncLifetime
{
    private PluginGateway _gw = null!;

    public async Task InitializeAsync()
    {
        _gw = await PluginGateway.StartAsync();
        await _gw.ServiceAndRouteAsync("svc", "/api");
    }

    public async Task DisposeAsync() => await _gw.DisposeAsync();

    private Task AddTransformerAsync() => _gw.CreateAsync("/routes/svc-route/plugins", new
    {
        name = "request-transformer",
        config = new
        {
            remove = new { body = new[] { "secret" } },
            rename = new { body = new[] { "old:new" } },
            replace = new { body = new[] { "mode:fast", "absent:x" } },
            add = new { body = new[] { "added:yes", "kept:overwritten" } },
            append = new { body = new[] { "tags:b" } },
        },
    });

    [Fact]
    public async Task Request_transformer_rewrites_json_bodies()
    {
        await AddTransformerAsync();
        const string sent = """{"secret":"s","old":1,"mode":"slow","kept":"k","tags":"a"}""";
        using var response = await _gw.Proxy.PostAsync("/api", new StringContent(sent, Encoding.UTF8, "application/json"));
        var echo = await response.EchoAsync();
        var body = JsonNode.Parse(echo.Body)!.AsObject();
        Assert.False(body.ContainsKey("secret"));
        Assert.False(body.ContainsKey("old"));
        Assert.Equal(1, (int)body["new"]!);
        Assert.Equal("fast", (string?)body["mode"]);
        Assert.False(body.ContainsKey("absent")); // replace only touches present keys
        Assert.Equal("yes", (string?)body["added"]);
        Assert.Equal("k", (string?)body["kept"]); // add never overwrites
        Assert.Equal("""["a","b"]""", body["tags"]!.ToJsonString());
        Assert.Equal(Encoding.UTF8.GetByteCount(echo.Body).ToString(System.Globalization.CultureInfo.InvariantCulture), echo.Header("Content-Length"));
    }

    [Fact]
    public async Task Request_transformer_rewrites_form_bodies_and_leaves_other_types_alone()
    {
        await AddTransformerAsync();
        using var form = await _gw.Proxy.PostAsync("/api", new StringContent("secret=s&old=1&mode=slow&tags=a&x=a%20b",
            Encoding.UTF8, "application/x-www-form-urlencoded"));
        var echo = await form.EchoAsync();
        // Field order is not part of Kong's contract (a Lua table); values and repetition are.
        Assert.Equal(["added=yes", "kept=overwritten", "mode=fast", "new=1", "tags=a", "tags=b", "x=a%20b"], echo.Body.Split('&').Order(StringComparer.Ordinal));

        using var text = await _gw.Proxy.PostAsync("/api", new StringContent("secret=s", Encoding.UTF8, "text/plain"));
        Assert.Equal("secret=s", (await text.EchoAsync()).Body);
    }

    [Fact]
    public async Task Request_size_limiting_counts_chunked_bodies()
    {
        await _gw.CreateAsync("/routes/svc-route/plugins", new { name = "request-size-limiting", config = new { allowed_payload_size = 10, size_unit = "bytes" } });
        using var big = await PostChunkedAsync(new string('x', 11));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, big.StatusCode);
        Assert.Equal("Request size limit exceeded", (string?)JsonNode.Parse(await big.Content.ReadAsStringAsync())!["message"]);

        using var small = await PostChunkedAsync(new string('y', 10));
        Assert.Equal(HttpStatusCode.OK, small.StatusCode);
        Assert.Equal(new string('y', 10), (await small.EchoAsync()).Body); // the counted body still reaches the upstream
    }

    /// <summary>Posts a body with Transfer-Encoding: chunked (no Content-Length).</summary>
    private async Task<HttpResponseMessage> PostChunkedAsync(string text)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api") { Content = new StringContent(text) };
        request.Headers.TransferEncodingChunked = true;
        var response = await _gw.Proxy.SendAsync(request);
        Assert.Null(request.Content.Headers.ContentLength);
        return response;
    }
}
