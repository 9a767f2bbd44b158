using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Tests.Infrastructure;

namespace Gatehouse.Tests.Plugins;

/// <summary>key-auth with <c>key_in_body</c> through the real proxy: the key is read from JSON, form and multipart
/// bodies, and <c>hide_credentials</c> removes it from the body the upstream receives (with a matching
/// Content-Length) while every other field arrives as sent; a repeated key is refused.</summary>
public sealed class KeyAuthBodyTests : IAsyncLifetime
{
    private PluginGateway _gw = null!;
    private string _consumerId = "";

    public async Task InitializeAsync()
    {
        _gw = await PluginGateway.StartAsync();
        await _gw.ServiceAndRouteAsync("svc", "/api");
        _consumerId = (string)(await _gw.CreateAsync("/consumers", new { username = "alice" }))["id"]!;
        await _gw.CreateAsync("/consumers/alice/key-auth", new { key = "secret-key" });
        await _gw.CreateAsync("/routes/svc-route/plugins", new { name = "key-auth", config = new { key_in_body = true, hide_credentials = true } });
    }

    public async Task DisposeAsync() => await _gw.DisposeAsync();

    private async Task<EchoResponse> PostAsync(HttpContent content)
    {
        using var response = await _gw.Proxy.PostAsync("/api", content);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var echo = await response.EchoAsync();
        Assert.Equal(_consumerId, echo.Header("X-Consumer-ID"));
        Assert.Equal(Encoding.UTF8.GetByteCount(echo.Body).ToString(CultureInfo.InvariantCulture), echo.Header("Content-Length"));
        return echo;
    }

    [Fact]
    public async Task Hide_credentials_removes_the_key_from_a_json_body()
    {
        var echo = await PostAsync(new StringContent("""{"apikey":"secret-key","name":"x","n":[1,2]}""", Encoding.UTF8, "application/json"));
        var body = JsonNode.Parse(echo.Body)!.AsObject();
        Assert.False(body.ContainsKey("apikey"));
        Assert.Equal("x", (string?)body["name"]);
        Assert.Equal("[1,2]", body["n"]!.ToJsonString());
    }

    [Fact]
    public async Task Hide_credentials_removes_the_key_from_a_form_body_and_keeps_the_rest_as_sent()
    {
        var echo = await PostAsync(new StringContent("a=1&apikey=secret-key&b=x%20y&c", Encoding.UTF8, "application/x-www-form-urlencoded"));
        Assert.Equal("a=1&b=x%20y&c", echo.Body);
    }

    [Fact]
    public async Task Hide_credentials_removes_the_key_part_from_a_multipart_body_and_keeps_file_parts()
    {
        using var form = new MultipartFormDataContent("gh-boundary");
        form.Add(new StringContent("first"), "before");
        form.Add(new StringContent("secret-key"), "apikey");
        var file = new ByteArrayContent("file body\r\nline 2"u8.ToArray());
        file.Headers.ContentType = new MediaTypeHeaderValue("text/plain");
        form.Add(file, "upload", "notes.txt");
        var echo = await PostAsync(form);
        Assert.DoesNotContain("secret-key", echo.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("name=apikey", echo.Body, StringComparison.Ordinal);
        Assert.Contains("--gh-boundary\r\n", echo.Body, StringComparison.Ordinal);
        Assert.Contains("name=before\r\n", echo.Body, StringComparison.Ordinal);
        Assert.Contains("\r\n\r\nfirst\r\n--gh-boundary", echo.Body, StringComparison.Ordinal);
        Assert.Contains("filename=notes.txt", echo.Body, StringComparison.Ordinal);
        Assert.Contains("\r\n\r\nfile body\r\nline 2\r\n--gh-boundary--", echo.Body, StringComparison.Ordinal);
        Assert.StartsWith("multipart/form-data", echo.Header("Content-Type"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_key_sent_in_a_header_is_also_cleared_from_the_body_and_a_repeated_key_is_refused()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api")
        {
            Content = new StringContent("""{"apikey":"stale","keep":true}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("apikey", "secret-key");
        using var response = await _gw.Proxy.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var echo = await response.EchoAsync();
        Assert.Null(echo.Header("apikey"));
        Assert.Equal("""{"keep":true}""", echo.Body);

        using var duplicate = await _gw.Proxy.PostAsync("/api", new StringContent("apikey=secret-key&apikey=other", Encoding.UTF8, "application/x-www-form-urlencoded"));
        Assert.Equal(HttpStatusCode.Unauthorized, duplicate.StatusCode);
        Assert.Equal("Duplicate API key found", (string?)JsonNode.Parse(await duplicate.Content.ReadAsStringAsync())!["message"]);
    }
}
