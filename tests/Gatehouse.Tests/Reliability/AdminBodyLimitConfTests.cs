using Gatehouse.Config;

namespace Gatehouse.Tests.Reliability;

/// <summary><c>admin_client_max_body_size</c> (and Kong's <c>nginx_admin_client_max_body_size</c>) in nginx size syntax.</summary>
public sealed class AdminBodyLimitConfTests
{
    private static ConfLoadResult Load(string text) => GatehouseConfLoader.LoadText(text, new Dictionary<string, string?>());

    [Fact]
    public void Default_is_10m() => Assert.Equal(10L << 20, Load("").Options!.AdminClientMaxBodySize);

    [Theory]
    [InlineData("admin_client_max_body_size = 0", 0L)]
    [InlineData("admin_client_max_body_size = 4096", 4096L)]
    [InlineData("admin_client_max_body_size = 512k", 512L << 10)]
    [InlineData("admin_client_max_body_size = 512K", 512L << 10)]
    [InlineData("admin_client_max_body_size = 50m", 50L << 20)]
    [InlineData("admin_client_max_body_size = 2G", 2L << 30)]
    [InlineData("nginx_admin_client_max_body_size = 20m", 20L << 20)]
    public void Sizes_follow_nginx_syntax(string line, long expected)
    {
        var result = Load(line);
        Assert.Empty(result.Errors);
        Assert.Equal(expected, result.Options!.AdminClientMaxBodySize);
    }

    [Fact]
    public void Kong_environment_name_works() =>
        Assert.Equal(1L << 20, GatehouseConfLoader.LoadText("", new Dictionary<string, string?> { ["KONG_NGINX_ADMIN_CLIENT_MAX_BODY_SIZE"] = "1m" })
            .Options!.AdminClientMaxBodySize);

    [Theory]
    [InlineData("10mb")]
    [InlineData("-1")]
    [InlineData("m")]
    [InlineData("1.5m")]
    [InlineData("")]
    public void Bad_sizes_are_errors_naming_the_key(string value)
    {
        var result = Load($"admin_client_max_body_size = {value}");
        Assert.Contains(result.Errors, e => e.StartsWith("admin_client_max_body_size: ", StringComparison.Ordinal));
    }
}
