using System.Text.Json.Nodes;
using Gatehouse.Entities.Schemas;

namespace Gatehouse.Tests.Entities;

public sealed class ServiceUrlShorthandTests
{
    [Theory]
    [InlineData("http://example.com", "http", "example.com", 80, null)]
    [InlineData("https://example.com", "https", "example.com", 443, null)]
    [InlineData("https://user:pw@example.com:8443/a/b", "https", "example.com", 8443, "/a/b")]
    [InlineData("grpcs://[::1]:9000", "grpcs", "[::1]", 9000, null)]
    [InlineData("grpcs://g.test", "grpcs", "g.test", 80, null)]
    [InlineData("//h.test:443", "https", "h.test", 443, null)]
    [InlineData("tcp://10.0.0.1:5432", "tcp", "10.0.0.1", 5432, null)]
    public void Expands_like_kong(string url, string protocol, string host, int port, string? path)
    {
        var e = ServiceEntity.ExpandUrl(JsonValue.Create(url));
        Assert.Equal(protocol, e["protocol"]!.ToString());
        Assert.Equal(host, e["host"]!.ToString());
        Assert.Equal(port, (long)e["port"]!);
        Assert.Equal(path, e["path"]?.ToString());
    }
}
