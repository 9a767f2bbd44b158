using System.Net;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Config;
using Gatehouse.Proxy;
using Gatehouse.Tests.Infrastructure;

namespace Gatehouse.Tests.Manager;

/// <summary>TLS on admin_gui_listen (Kong's <c>ssl</c> flag with admin_gui_ssl_cert/_key): a real handshake presents
/// the configured certificate, the page is told to call an https Admin listener, and the https origin gets CORS.</summary>
public sealed partial class ManagerServingTests
{
    [Fact]
    public async Task With_ssl_the_manager_presents_admin_gui_ssl_cert_and_its_https_page_calls_an_https_admin_api()
    {
        using var dir = new Store.TempDir();
        var pair = TestCertificates.Rsa("CN=manager.test");
        var (certFile, keyFile) = (dir.File("manager.crt"), dir.File("manager.key"));
        await File.WriteAllTextAsync(certFile, pair.Cert);
        await File.WriteAllTextAsync(keyFile, pair.Key);
        // the conf keys as gatehouse.conf gives them
        var conf = GatehouseConfLoader.LoadText(
            $"admin_gui_listen = 127.0.0.1:0 ssl\nadmin_gui_ssl_cert = {certFile}\nadmin_gui_ssl_cert_key = {keyFile}\n", new Dictionary<string, string?>());
        Assert.Empty(conf.Errors);
        var options = conf.Options!;
        await using var gateway = await StartAsync(o => o with
        {
            AdminGuiListen = options.AdminGuiListen, AdminGuiSslCert = options.AdminGuiSslCert, AdminGuiSslCertKey = options.AdminGuiSslCertKey,
            AdminListen = [ListenAddress.Parse("127.0.0.1:0"), ListenAddress.Parse("127.0.0.1:0 ssl")],
        });
        var manager = gateway.Host.Addresses(ListenerKind.Manager)[0];
        Assert.Equal("https", manager.Scheme);

        // a real TLS handshake: the Manager presents admin_gui_ssl_cert and serves the app over it
        X509Certificate2? presented = null;
        using var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
        {
            presented ??= new X509Certificate2(certificate!);
            return true;
        };
        using var client = new HttpClient(handler) { BaseAddress = manager };
        using (var index = await client.GetAsync("/"))
        {
            Assert.Equal(HttpStatusCode.OK, index.StatusCode);
            Assert.Contains("/kconfig.js", await index.Content.ReadAsStringAsync());
        }
        Assert.Equal("CN=manager.test", presented!.Subject);
        presented.Dispose();
        // cleartext on the ssl port is not served
        using (var cleartext = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{manager.Port}") })
            await Assert.ThrowsAnyAsync<HttpRequestException>(() => cleartext.GetAsync("/"));

        // the https page calls the https Admin listener (a cleartext one would be mixed content)
        var httpsAdmin = gateway.Host.Addresses(ListenerKind.Admin).Single(a => a.Scheme == "https");
        var kconfig = await client.GetStringAsync("/kconfig.js");
        Assert.Contains($"\"ADMIN_API_PORT\":\"{httpsAdmin.Port}\"", kconfig);
        Assert.Contains("\"ADMIN_API_SCHEME\":\"https\"", kconfig);

        // the Manager's https origin gets CORS on the Admin API; http on its port is not the Manager
        var origin = $"https://127.0.0.1:{manager.Port}";
        using (var preflight = await gateway.Admin.SendAsync(Preflight(origin, "content-type")))
        {
            Assert.Equal(HttpStatusCode.NoContent, preflight.StatusCode);
            Assert.Equal(origin, Header(preflight, "Access-Control-Allow-Origin"));
        }
        using (var refused = await gateway.Admin.SendAsync(Preflight($"http://127.0.0.1:{manager.Port}", "content-type")))
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
    }

    [Fact]
    public async Task With_ssl_and_no_admin_gui_ssl_cert_the_manager_presents_the_self_signed_default()
    {
        await using var gateway = await StartAsync(o => o with { AdminGuiListen = [ListenAddress.Parse("127.0.0.1:0 ssl")] });
        X509Certificate2? presented = null;
        using var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
        {
            presented ??= new X509Certificate2(certificate!);
            return true;
        };
        using var client = new HttpClient(handler) { BaseAddress = gateway.Host.Addresses(ListenerKind.Manager)[0] };
        using var index = await client.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, index.StatusCode);
        Assert.Equal("CN=localhost, O=Gatehouse", presented!.Subject);
        presented.Dispose();
    }
}
