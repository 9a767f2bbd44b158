using System.Net;
using Gatehouse.Config;
using Gatehouse.Hosting;
using Gatehouse.Proxy;
using Gatehouse.Model;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Tests.Infrastructure;

/// <summary>
/// The real gateway (<see cref="GatewayHost"/>) on 127.0.0.1:0 without store or Admin API, with an access log in a
/// temporary prefix and debug headers allowed. Tests publish configurations with <see cref="Publish"/>.
/// </summary>
public sealed class GatewayFixture : IAsyncDisposable
{
    private GatewayFixture(GatewayHost host, string prefix)
    {
        Host = host;
        Prefix = prefix;
        var proxy = host.Addresses(ListenerKind.Proxy);
        ProxyUri = proxy[0];
        H2cUri = proxy.Count > 1 ? proxy[1] : null;
        Client = CreateClient();
    }

    public GatewayHost Host { get; }
    public string Prefix { get; }
    /// <summary>The first proxy listener (HTTP/1.1).</summary>
    public Uri ProxyUri { get; }
    /// <summary>The second proxy listener, h2c prior knowledge, when the options have one (the default fixture does).</summary>
    public Uri? H2cUri { get; }
    public HttpClient Client { get; }
    public string AccessLogPath => Path.Combine(Prefix, "access.log");

    /// <param name="configure">adjusts the options (listeners, headers…) before the host is built</param>
    /// <param name="services">extra DI registrations, e.g. phase-plan contributors</param>
    /// <param name="logging">replaces the silenced console (e.g. <see cref="LogCapture.Install"/>); log_level and the
    /// framework filters still apply</param>
    public static async Task<GatewayFixture> StartAsync(GatewayConfig? config = null,
        Func<GatehouseOptions, GatehouseOptions>? configure = null, Action<IServiceCollection>? services = null,
        Action<ILoggingBuilder>? logging = null)
    {
        var prefix = Directory.CreateTempSubdirectory("gatehouse-test-").FullName;
        var options = new GatehouseOptions
        {
            Prefix = prefix,
            ProxyListen = [ListenAddress.Parse("127.0.0.1:0"), ListenAddress.Parse("127.0.0.1:0 http2")],
            AdminListen = [],
            Database = DatabaseKind.Off,
            LogLevel = "error",
            ProxyAccessLog = Path.Combine(prefix, "access.log"),
            AllowDebugHeader = true,
        };
        options = configure?.Invoke(options) ?? options;
        var host = GatewayHost.Create(options, new GatewayHostOptions
        {
            IncludeStoreAndAdmin = false,
            ConfigureServices = services,
            ConfigureLogging = logging ?? (l => l.ClearProviders()),
            ShutdownTimeout = TimeSpan.FromSeconds(5),
        });
        await host.StartAsync();
        var fixture = new GatewayFixture(host, prefix);
        if (config is not null) fixture.Publish(config);
        return fixture;
    }

    /// <summary>Publishes <paramref name="config"/> with a version above the current one; the proxy has swapped to
    /// it when this returns (compilation runs on the publishing thread).</summary>
    public void Publish(GatewayConfig config)
    {
        var publisher = Host.Publisher;
        publisher.Publish(config with { Version = publisher.Current.Version + 1 });
    }

    /// <summary>A client for the proxy; HTTP/2 clients go to <see cref="H2cUri"/>.</summary>
    public HttpClient CreateClient(Version? version = null) => new(new SocketsHttpHandler
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        UseCookies = false,
    })
    {
        BaseAddress = version == HttpVersion.Version20 ? H2cUri ?? ProxyUri : ProxyUri,
        DefaultRequestVersion = version ?? HttpVersion.Version11,
        DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        Timeout = TimeSpan.FromSeconds(30),
    };

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Host.StopAsync();
        await Host.DisposeAsync();
        try { Directory.Delete(Prefix, recursive: true); } catch (IOException) { }
    }
}
