using System.Net.Http.Headers;
using System.Text;
using Gatehouse.Config;
using Gatehouse.Tests.Admin;
using Gatehouse.Tests.Store;

namespace Gatehouse.Tests.Reliability;

/// <summary>
/// The Admin API parses JSON only under a JSON content type (a browser sends <c>text/plain</c> cross-site without a
/// CORS preflight), forms and multipart as forms, and answers 415 for any other type, as Kong's Admin API does.
/// </summary>
public sealed class AdminContentTypeTests : IAsyncLifetime
{
    private const string Service = """{"name":"s1","url":"http://a.internal"}""";
    private readonly TempDir _dir = new();
    private AdminTestHost _host = null!;
    private AdminTestHost _dbless = null!;

    public async Task InitializeAsync()
    {
        _host = await AdminTestHost.StartSqliteAsync(_dir.File("gh.db"));
        _dbless = await AdminTestHost.StartAsync(new GatehouseOptions { Database = DatabaseKind.Off });
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _dbless.DisposeAsync();
        _dir.Dispose();
    }

    private static HttpRequestMessage Post(string path, string body, string? contentType)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body)) };
        // TryAddWithoutValidation: a header that does not parse as a media type must reach the server as sent
        if (contentType is not null) request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        return request;
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("text/plain; charset=utf-8")]
    [InlineData("application/xml")]
    [InlineData(null)]
    public async Task Json_under_another_content_type_is_415_and_not_stored(string? contentType)
    {
        using var request = Post("/services", Service, contentType);
        var (status, body) = await _host.SendAsync(request);
        Assert.Equal(415, status);
        Assert.Equal("Unsupported Media Type", (string?)body!["message"]);
        Assert.Empty((await _host.GetAsync("/services")).Body!["data"]!.AsArray());
    }

    [Theory]
    [InlineData("application/json")]
    [InlineData("application/json; charset=utf-8")]
    [InlineData("application/json-patch+json")] // Kong checks a prefix of the header
    public async Task Json_content_types_are_parsed(string contentType)
    {
        using var request = Post("/services", Service, contentType);
        Assert.Equal(201, (await _host.SendAsync(request)).Status);
    }

    /// <summary>Kong's before_filter compares a case-sensitive prefix of the raw header: another case or a
    /// <c>+json</c> type is 415 there, so it is here.</summary>
    [Theory]
    [InlineData("Application/JSON; charset=utf-8")]
    [InlineData("application/merge-patch+json")]
    [InlineData("APPLICATION/X-WWW-FORM-URLENCODED")]
    [InlineData("Multipart/Form-Data; boundary=b")]
    public async Task Content_types_outside_kongs_prefixes_are_415(string contentType)
    {
        using var request = Post("/services", Service, contentType);
        var (status, body) = await _host.SendAsync(request);
        Assert.Equal(415, status);
        Assert.Equal("Unsupported Media Type", (string?)body!["message"]);
        Assert.Empty((await _host.GetAsync("/services")).Body!["data"]!.AsArray());
    }

    [Fact]
    public async Task Empty_json_body_is_cannot_parse_json_body()
    {
        using var request = Post("/services", "", "application/json");
        var (status, body) = await _host.SendAsync(request);
        Assert.Equal(400, status);
        Assert.Equal("Cannot parse JSON body", (string?)body!["message"]);
    }

    [Fact]
    public async Task No_content_type_with_no_body_reaches_the_schema()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/services");
        var (status, body) = await _host.SendAsync(request);
        Assert.Equal(400, status);
        Assert.Equal(2, (int)body!["code"]!); // schema violation: host required, not a content-type error
    }

    [Fact]
    public async Task Forms_and_multipart_still_work()
    {
        using var form = new HttpRequestMessage(HttpMethod.Post, "/services")
        {
            Content = new FormUrlEncodedContent([KeyValuePair.Create("name", "f"), KeyValuePair.Create("url", "http://f.internal")]),
        };
        Assert.Equal(201, (await _host.SendAsync(form)).Status);
        using var multipart = new HttpRequestMessage(HttpMethod.Post, "/services")
        {
            Content = new MultipartFormDataContent { { new StringContent("m"), "name" }, { new StringContent("http://m.internal"), "url" } },
        };
        Assert.Equal(201, (await _host.SendAsync(multipart)).Status);
    }

    [Theory]
    [InlineData("text/plain", 415)]
    [InlineData("invalid", 415)]
    [InlineData(null, 415)]
    [InlineData("text/yaml", 201)]
    [InlineData("application/x-yaml", 201)]
    [InlineData("application/yaml", 201)]
    public async Task Post_config_takes_yaml_json_and_forms_only(string? contentType, int expected)
    {
        using var request = Post("/config", "_format_version: \"3.0\"\nservices:\n  - name: y\n    host: y.internal\n", contentType);
        Assert.Equal(expected, (await _dbless.SendAsync(request)).Status);
    }

    [Fact]
    public async Task Post_config_with_an_empty_json_body_is_cannot_parse_json_body()
    {
        using var request = Post("/config", "", "application/json");
        var (status, body) = await _dbless.SendAsync(request);
        Assert.Equal(400, status);
        Assert.Equal("Cannot parse JSON body", (string?)body!["message"]);
    }
}
