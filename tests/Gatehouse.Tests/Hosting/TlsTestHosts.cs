using Gatehouse.Config;
using Gatehouse.Hosting;
using Gatehouse.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Tests.Hosting;

/// <summary>The real gateways the TLS listener tests start in-process.</summary>
internal static class TlsTestHosts
{
    /// <summary>Writes a default certificate (<c>CN=default.test</c>) under <paramref name="dir"/> as
    /// <c>cert.pem</c>/<c>key.pem</c>; returns their paths for ssl_cert/ssl_cert_key.</summary>
    public static async Task<(string Cert, string Key)> WriteDefaultCertificateAsync(string dir)
    {
        var pair = TestCertificates.Rsa("CN=default.test");
        var (cert, key) = (Path.Combine(dir, "cert.pem"), Path.Combine(dir, "key.pem"));
        await File.WriteAllTextAsync(cert, pair.Cert);
        await File.WriteAllTextAsync(key, pair.Key);
        return (cert, key);
    }

    /// <summary>An <c>ssl</c> proxy listener presenting the default certificate, and a plain Admin API on SQLite under
    /// <paramref name="dir"/>, started.</summary>
    public static async Task<GatewayHost> StartOnSqliteAsync(string dir)
    {
        var (cert, key) = await WriteDefaultCertificateAsync(dir);
        return await StartAsync(new GatehouseOptions
        {
            Prefix = dir,
            ProxyListen = [ListenAddress.Parse("127.0.0.1:0 ssl")],
            AdminListen = [ListenAddress.Parse("127.0.0.1:0")],
            Database = DatabaseKind.Sqlite,
            SslCert = cert,
            SslCertKey = key,
            LogLevel = "error",
            ProxyAccessLog = null,
        });
    }

    /// <summary>The gateway of <paramref name="confText"/> (which must load) with the prefix <paramref name="dir"/> and
    /// no database, started.</summary>
    public static Task<GatewayHost> StartFromConfAsync(string confText, string dir)
    {
        var loaded = GatehouseConfLoader.LoadText(confText, new Dictionary<string, string?>());
        Assert.True(loaded.IsValid, string.Join("; ", loaded.Errors));
        return StartAsync(loaded.Options! with { AdminGuiListen = [], Prefix = dir, Database = DatabaseKind.Off, LogLevel = "error", ProxyAccessLog = null });
    }

    private static async Task<GatewayHost> StartAsync(GatehouseOptions options)
    {
        var host = GatewayHost.Create(options, new GatewayHostOptions
        {
            ConfigureLogging = l => l.ClearProviders(),
            ShutdownTimeout = TimeSpan.FromSeconds(5),
        });
        try { await host.StartAsync(); }
        catch
        {
            await host.DisposeAsync();
            throw;
        }
        return host;
    }
}
