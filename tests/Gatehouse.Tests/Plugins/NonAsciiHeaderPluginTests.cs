using Gatehouse.Tests.Infrastructure;
using Xunit;

namespace Gatehouse.Tests.Plugins;

/// <summary>Header values are byte strings through the proxy (issue #10 item 8); plugins configured with text
/// send its UTF-8 bytes, as Kong does.</summary>
public sealed class NonAsciiHeaderPluginTests : IAsyncLifetime
{
    private PluginGateway _gw = null!;

    public async Task InitializeAsync()
    {
        _gw = await PluginGateway.StartAsync();
        await _gw.ServiceAndRouteAsync("svc", "/api");
    }

    public async Task DisposeAsync() => await _gw.DisposeAsync();

    [Fact]
    public async Task Request_transformer_sends_a_configured_non_ASCII_header_value_as_UTF_8()
    {
        await _gw.CreateAsync("/routes/svc-route/plugins", new
        {
            name = "request-transformer",
            config = new { add = new { headers = new[] { "x-added:café ✓" } } },
        });
        using var response = await _gw.Proxy.GetAsync("/api");
        var echo = await response.EchoAsync();
        Assert.Equal("café ✓", echo.Header("x-added")); // the echo upstream decodes header bytes as UTF-8
    }
}
