using System.Text;

using Gatehouse.Tests.Store;

namespace Gatehouse.Tests.Admin;

public class FormBodyTests : AdminStoreTests
{
    [Fact]
    public async Task Urlencoded_service_and_route_with_kong_conventions()
    {
        var service = Encoding.UTF8.GetBytes("name=form-svc&host=f.test&port=8080&retries=3&tags[]=a&tags[]=b&enabled=false");
        var (s1, svc) = await _host.SendRawAsync(HttpMethod.Post, "/services", service, "application/x-www-form-urlencoded");
        Assert.Equal(201, s1);
        Assert.Equal(8080, (int)svc!["port"]!);
        Assert.Equal(3, (int)svc["retries"]!);
        Assert.False((bool)svc["enabled"]!);
        Assert.Equal(["a", "b"], svc["tags"]!.AsArray().Select(t => (string)t!));

        var route = Encoding.UTF8.GetBytes(
            $"name=form-route&methods=GET&methods=POST&hosts[1]=a.test&hosts[2]=b.test&paths=/p&headers.x-a=v1&service.id={svc["id"]}&strip_path=false");
        var (s2, r) = await _host.SendRawAsync(HttpMethod.Post, "/routes", route, "application/x-www-form-urlencoded");
        Assert.Equal(201, s2);
        Assert.Equal(["GET", "POST"], r!["methods"]!.AsArray().Select(t => (string)t!));
        Assert.Equal(["a.test", "b.test"], r["hosts"]!.AsArray().Select(t => (string)t!));
        Assert.Equal(["/p"], r["paths"]!.AsArray().Select(t => (string)t!));
        Assert.Equal("v1", (string?)r["headers"]!["x-a"]![0]);
        Assert.False((bool)r["strip_path"]!);
        Assert.Equal((string?)svc["id"], (string?)r["service"]!["id"]);
    }

    [Fact]
    public async Task Urlencoded_type_errors_are_reported()
    {
        var body = Encoding.UTF8.GetBytes("host=f.test&port=abc");
        var (status, error) = await _host.SendRawAsync(HttpMethod.Post, "/services", body, "application/x-www-form-urlencoded");
        Assert.Equal(400, status);
        Assert.Equal("expected an integer", (string?)error!["fields"]!["port"]);
    }

    /// <summary>Malformed multipart bodies (found by the Admin body fuzz target, D6): a section with no header end, a
    /// body with no boundary after it, a long boundary line with nothing after it. Each is a 400, never a 500.</summary>
    [Theory]
    [InlineData("--b\r\nC\r\n")]
    [InlineData("--b\r\nContent-Disposition: form-data; name=\"host\"\r\n")]
    [InlineData("--b\r\nContent-Disposition: form-data; name=\"host\"\r\n\r\nm.test")]
    [InlineData("--b                                                                                                                \r\n")]
    public async Task Malformed_multipart_is_a_400(string body)
    {
        var (status, error) = await _host.SendRawAsync(HttpMethod.Post, "/services", Encoding.UTF8.GetBytes(body), "multipart/form-data; boundary=b");
        Assert.Equal(400, status);
        Assert.Equal("Cannot parse multipart body", (string?)error!["message"]);
    }

    [Fact]
    public async Task Multipart_body()
    {
        using var content = new MultipartFormDataContent
        {
            { new StringContent("multi"), "name" },
            { new StringContent("m.test"), "host" },
            { new StringContent("81"), "port" },
            { new StringContent("t1"), "tags[]" },
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/services") { Content = content };
        var (status, svc) = await _host.SendAsync(request);
        Assert.Equal(201, status);
        Assert.Equal("multi", (string?)svc!["name"]);
        Assert.Equal(81, (int)svc["port"]!);
        Assert.Equal("t1", (string?)svc["tags"]![0]);

        using var patch = new HttpRequestMessage(HttpMethod.Patch, "/services/multi")
        {
            Content = new MultipartFormDataContent { { new StringContent("7"), "retries" } },
        };
        var (ps, patched) = await _host.SendAsync(patch);
        Assert.Equal(200, ps);
        Assert.Equal(7, (int)patched!["retries"]!);
        Assert.Equal(81, (int)patched["port"]!);
    }
}

/// <summary>Every test of <see cref="FormBodyTests"/> on PostgreSQL.</summary>
public sealed class FormBodyTestsOnPostgres : FormBodyTests
{
    private protected override AdminStore Store => AdminStore.Postgres;
}
