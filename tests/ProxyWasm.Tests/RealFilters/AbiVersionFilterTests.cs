using Microsoft.Extensions.Logging;
using ProxyWasm.Abi;
using ProxyWasm.Http;

namespace ProxyWasm.Tests.RealFilters;

/// <summary><c>filters/test/abi-0-1-0|0-2-0|0-2-1.wasm</c> (filters/test/README.md "one filter per ABI version").</summary>
public sealed class AbiVersionFilterTests
{
    [Theory]
    [InlineData("abi-0-1-0", AbiVersion.V0_1_0, "0.1.0")]
    [InlineData("abi-0-2-0", AbiVersion.V0_2_0, "0.2.0")]
    [InlineData("abi-0-2-1", AbiVersion.V0_2_1, "0.2.1")]
    public async Task Each_version_is_detected_configured_and_adds_its_headers(string name, AbiVersion abi, string version)
    {
        using var h = new RealFilterHost();
        string file = $"filters/test/{name}.wasm";
        Assert.Equal(abi, h.AbiOf(file));
        var plugin = h.Start(file, "raw config, not JSON");
        Assert.Contains(h.Logs.Filter(name), l => l.Text == $"abi {version}: configured" && l.Level == LogLevel.Information);

        var x = await h.SendAsync(plugin, RequestSpec.Get("/abi"));

        Assert.Equal(FilterOutcome.Continue, x.Final);
        Assert.Equal([version], x.Stream.RequestHeaders.GetValues("x-abi-version"));
        Assert.Equal([version], x.Stream.ResponseHeaders.GetValues("x-abi-version"));
        Assert.Equal("raw config, not JSON", x.ResponseHeader("x-abi-config"));
        // a missing header: 0.1.0 hosts answer OK with an empty value, 0.2.x NOT_FOUND (abi doc §1.8)
        Assert.Equal(abi == AbiVersion.V0_1_0 ? "0" : "1", x.ResponseHeader("x-abi-missing-status"));
        if (abi == AbiVersion.V0_2_1)
        {
            // proxy_get_log_level: the capturing logger enables every level, so trace (0)
            Assert.Equal("0", x.ResponseHeader("x-abi-log-level"));
        }
        else
        {
            Assert.Null(x.ResponseHeader("x-abi-log-level"));
        }
    }

    [Theory]
    [InlineData(LogLevel.Debug, "1")]
    [InlineData(LogLevel.Information, "2")]
    [InlineData(LogLevel.Warning, "3")]
    public async Task Abi_0_2_1_log_level_follows_the_hosts_logger(LogLevel minimum, string expected)
    {
        using var h = new RealFilterHost(minimumLevel: minimum);
        var plugin = h.Start("filters/test/abi-0-2-1.wasm");
        var x = await h.SendAsync(plugin, RequestSpec.Get());
        Assert.Equal(expected, x.ResponseHeader("x-abi-log-level"));
    }

    [Theory]
    [InlineData("abi-0-1-0")]
    [InlineData("abi-0-2-0")]
    [InlineData("abi-0-2-1")]
    public async Task Empty_configuration_sets_no_config_header(string name)
    {
        using var h = new RealFilterHost();
        var plugin = h.Start($"filters/test/{name}.wasm");
        var x = await h.SendAsync(plugin, RequestSpec.Get());
        Assert.Equal(FilterOutcome.Continue, x.Final);
        Assert.Null(x.ResponseHeader("x-abi-config"));
        Assert.Single(x.Stream.ResponseHeaders.GetValues("x-abi-version"));
    }
}
