using System.Net;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Hosting;
using Gatehouse.Proxy;
using Gatehouse.Tests.Infrastructure;

namespace Gatehouse.Tests.Proxy;

/// <summary>
/// Upstream TLS as Kong 3.9 applies a service's tls_verify, tls_verify_depth, ca_certificates and client_certificate
/// (and its upstream's client_certificate), against real HTTPS upstreams on loopback, configured through the Admin API
/// on SQLite. Before upstream TLS was implemented, every one of these writes was refused ("not supported by Gatehouse").
/// The name checked is the Host header sent upstream (routes here preserve the client's Host), as nginx's
/// <c>proxy_ssl_name $upstream_host</c>.
/// </summary>
public sealed class UpstreamTlsTests : IAsyncDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("gatehouse-uptls-").FullName;
    private readonly LogCapture _logs = new();
    private GatewayHost? _host;
    private HttpClient? _admin;
    private HttpClient? _proxy;

    [Fact]
    public async Task Tls_verify_checks_the_chain_against_ca_certificates_and_the_name_and_follows_admin_changes()
    {
        var ca = TestCertificates.Ca("CN=Upstream CA");
        var other = TestCertificates.Ca("CN=Other CA");
        await using var upstream = await TlsUpstream.StartAsync(TestCertificates.IssuedFor(ca, "upstream.test"));
        await StartAsync();
        var service = await ServiceAsync(upstream.Port, new JsonObject { ["tls_verify"] = true });

        // nothing trusted: no ca_certificates and no global trust store
        Assert.Equal(HttpStatusCode.BadGateway, (await GetAsync("upstream.test")).Status);
        Assert.Contains(_logs.Entries, e => e.EventId.Id == 1010 && e.Message.Contains("upstream.test") && e.Message.Contains("no trusted CA"));

        var caId = await CreateAsync("/ca_certificates", new JsonObject { ["cert"] = ca.Cert });
        await PatchAsync($"/services/{service}", new JsonObject { ["ca_certificates"] = new JsonArray(caId) });
        Assert.Equal((HttpStatusCode.OK, "client=none"), await GetAsync("upstream.test"));

        // the certificate does not name the host sent
        _logs.Clear();
        Assert.Equal(HttpStatusCode.BadGateway, (await GetAsync("wrong.test")).Status);
        Assert.Contains(_logs.Entries, e => e.EventId.Id == 1010 && e.Message.Contains("wrong.test") && e.Message.Contains("host name"));

        // rotating the CA entity to another CA: new connections no longer trust the upstream
        await PatchAsync($"/ca_certificates/{caId}", new JsonObject { ["cert"] = other.Cert });
        Assert.Equal(HttpStatusCode.BadGateway, (await GetAsync("upstream.test")).Status);
        Assert.Contains(_logs.Entries, e => e.EventId.Id == 1010 && e.Message.Contains("not trusted"));

        // tls_verify off: Kong's default, anything is accepted
        await PatchAsync($"/services/{service}", new JsonObject { ["tls_verify"] = false });
        Assert.Equal((HttpStatusCode.OK, "client=none"), await GetAsync("wrong.test"));

        // as Kong's check_ca_reference: a CA a service lists is not deleted
        var (refused, error) = await AdminCalls.SendAsync(_admin!, HttpMethod.Delete, $"/ca_certificates/{caId}");
        Assert.Equal(400, refused);
        Assert.Equal(19, (int?)error?["code"]);
        Assert.Equal("referenced by others", (string?)error?["name"]);
        Assert.Equal($"ca certificate {caId} is still referenced by services (id = {service})", (string?)error?["message"]);
        await PatchAsync($"/services/{service}", new JsonObject { ["ca_certificates"] = null });
        Assert.Equal(204, (await AdminCalls.SendAsync(_admin!, HttpMethod.Delete, $"/ca_certificates/{caId}")).Status);
    }

    [Fact]
    public async Task Tls_verify_depth_limits_the_intermediates_as_nginx_counts_them()
    {
        var root = TestCertificates.Ca("CN=Root CA");
        var intermediate = TestCertificates.IssuedFor(root, "Intermediate CA", ca: true);
        await using var upstream = await TlsUpstream.StartAsync(TestCertificates.IssuedFor(intermediate, "upstream.test"), [intermediate]);
        await StartAsync();
        var rootId = await CreateAsync("/ca_certificates", new JsonObject { ["cert"] = root.Cert });
        var service = await ServiceAsync(upstream.Port, new JsonObject
        {
            ["tls_verify"] = true, ["tls_verify_depth"] = 0, ["ca_certificates"] = new JsonArray(rootId),
        });

        Assert.Equal(HttpStatusCode.BadGateway, (await GetAsync("upstream.test")).Status);
        Assert.Contains(_logs.Entries, e => e.EventId.Id == 1010 && e.Message.Contains("too long"));

        await PatchAsync($"/services/{service}", new JsonObject { ["tls_verify_depth"] = 1 });
        Assert.Equal((HttpStatusCode.OK, "client=none"), await GetAsync("upstream.test"));
        // null: nginx's default proxy_ssl_verify_depth 1
        await PatchAsync($"/services/{service}", new JsonObject { ["tls_verify_depth"] = null });
        Assert.Equal((HttpStatusCode.OK, "client=none"), await GetAsync("upstream.test"));
    }

    [Fact]
    public async Task Client_certificate_of_the_service_or_else_of_its_upstream_is_presented_to_an_upstream_that_demands_one()
    {
        await using var upstream = await TlsUpstream.StartAsync(TestCertificates.Rsa("CN=upstream.test"), requireClientCertificate: true);
        await StartAsync();
        var service = await ServiceAsync(upstream.Port, new JsonObject());
        Assert.Equal(HttpStatusCode.BadGateway, (await GetAsync("upstream.test")).Status);

        var serviceCert = TestCertificates.Rsa("CN=service-client.test");
        var serviceCertId = await CreateAsync("/certificates", new JsonObject { ["cert"] = serviceCert.Cert, ["key"] = serviceCert.Key });
        await PatchAsync($"/services/{service}", new JsonObject { ["client_certificate"] = new JsonObject { ["id"] = serviceCertId } });
        Assert.Equal((HttpStatusCode.OK, "client=CN=service-client.test"), await GetAsync("upstream.test"));

        // the upstream entity's client_certificate, used when the service has none
        var upstreamCert = TestCertificates.Ecdsa("CN=upstream-client.test");
        var upstreamCertId = await CreateAsync("/certificates", new JsonObject { ["cert"] = upstreamCert.Cert, ["key"] = upstreamCert.Key });
        await CreateAsync("/upstreams", new JsonObject { ["name"] = "pool.test", ["client_certificate"] = new JsonObject { ["id"] = upstreamCertId } });
        await CreateAsync("/upstreams/pool.test/targets", new JsonObject { ["target"] = $"127.0.0.1:{upstream.Port}" });
        await PatchAsync($"/services/{service}", new JsonObject { ["host"] = "pool.test" });
        Assert.Equal((HttpStatusCode.OK, "client=CN=service-client.test"), await GetAsync("upstream.test"));
        await PatchAsync($"/services/{service}", new JsonObject { ["client_certificate"] = null });
        Assert.Equal((HttpStatusCode.OK, "client=CN=upstream-client.test"), await GetAsync("upstream.test"));
    }

    /// <summary>Kong's client_ssl: https services whose service and upstream name no client_certificate present
    /// client_ssl_cert (else the self-signed default under the prefix); a service's own certificate still wins.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Client_ssl_presents_the_global_certificate_to_services_without_their_own(bool withFiles)
    {
        await using var upstream = await TlsUpstream.StartAsync(TestCertificates.Rsa("CN=upstream.test"), requireClientCertificate: true);
        var global = TestCertificates.Ecdsa("CN=global-client.test");
        string conf = "client_ssl = on\n";
        if (withFiles)
        {
            await File.WriteAllTextAsync(Path.Combine(_dir, "client.crt"), global.Cert);
            await File.WriteAllTextAsync(Path.Combine(_dir, "client.key"), global.Key);
            conf += $"client_ssl_cert = {Path.Combine(_dir, "client.crt")}\nclient_ssl_cert_key = {Path.Combine(_dir, "client.key")}\n";
        }
        var loaded = GatehouseConfLoader.LoadText(conf, new Dictionary<string, string?>());
        Assert.True(loaded.IsValid, string.Join("; ", loaded.Errors));
        await StartAsync(o => o with { ClientSsl = true, ClientSslCert = loaded.Options!.ClientSslCert, ClientSslCertKey = loaded.Options!.ClientSslCertKey });
        var service = await ServiceAsync(upstream.Port, new JsonObject());
        Assert.Equal((HttpStatusCode.OK, withFiles ? "client=CN=global-client.test" : "client=CN=localhost, O=Gatehouse"), await GetAsync("upstream.test"));

        var own = TestCertificates.Rsa("CN=own-client.test");
        var ownId = await CreateAsync("/certificates", new JsonObject { ["cert"] = own.Cert, ["key"] = own.Key });
        await PatchAsync($"/services/{service}", new JsonObject { ["client_certificate"] = new JsonObject { ["id"] = ownId } });
        Assert.Equal((HttpStatusCode.OK, "client=CN=own-client.test"), await GetAsync("upstream.test"));
    }

    /// <summary>A rejected certificate is a TCP failure for passive health checks, and (nothing having been sent) the
    /// balancer tries another target even for a POST, as nginx's <c>proxy_next_upstream error</c>.</summary>
    [Fact]
    public async Task A_rejected_certificate_counts_as_a_tcp_failure_and_the_next_target_is_tried()
    {
        var ca = TestCertificates.Ca("CN=Pool CA");
        var stranger = TestCertificates.Ca("CN=Stranger CA");
        await using var good = await TlsUpstream.StartAsync(TestCertificates.IssuedFor(ca, "upstream.test"));
        await using var bad = await TlsUpstream.StartAsync(TestCertificates.IssuedFor(stranger, "upstream.test"));
        await StartAsync();
        var caId = await CreateAsync("/ca_certificates", new JsonObject { ["cert"] = ca.Cert });
        await CreateAsync("/upstreams", new JsonObject
        {
            ["name"] = "hc.test",
            ["healthchecks"] = JsonNode.Parse("""{"passive":{"unhealthy":{"tcp_failures":2}}}"""),
        });
        await CreateAsync("/upstreams/hc.test/targets", new JsonObject { ["target"] = $"127.0.0.1:{good.Port}" });
        await CreateAsync("/upstreams/hc.test/targets", new JsonObject { ["target"] = $"127.0.0.1:{bad.Port}" });
        var service = await CreateAsync("/services", new JsonObject
        {
            ["url"] = "https://hc.test", ["tls_verify"] = true, ["ca_certificates"] = new JsonArray(caId),
        });
        await CreateAsync($"/services/{service}/routes", new JsonObject { ["paths"] = new JsonArray("/t"), ["preserve_host"] = true });

        for (var i = 0; i < 6; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/t") { Content = new StringContent("body") };
            request.Headers.Host = "upstream.test";
            using var response = await _proxy!.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        var (_, health) = await AdminCalls.SendAsync(_admin!, HttpMethod.Get, "/upstreams/hc.test/health");
        string? Health(int port) => health!["data"]!.AsArray()
            .FirstOrDefault(t => (string?)t!["target"] == $"127.0.0.1:{port}")?["health"]?.GetValue<string>();
        Assert.Equal("UNHEALTHY", Health(bad.Port));
        Assert.Equal("HEALTHY", Health(good.Port));
    }

    /// <summary>nginx_proxy_proxy_ssl_verify turns verification on for services whose tls_verify is null, against
    /// nginx_proxy_proxy_ssl_trusted_certificate when a service lists no ca_certificates.</summary>
    [Fact]
    public async Task Nginx_proxy_ssl_keys_verify_services_without_tls_verify_against_the_global_trust_store()
    {
        var ca = TestCertificates.Ca("CN=Global CA");
        var unknown = TestCertificates.Ca("CN=Unknown CA");
        await using var trusted = await TlsUpstream.StartAsync(TestCertificates.IssuedFor(ca, "upstream.test"));
        await using var untrusted = await TlsUpstream.StartAsync(TestCertificates.IssuedFor(unknown, "upstream.test"));
        var file = Path.Combine(_dir, "trusted.pem");
        await File.WriteAllTextAsync(file, ca.Cert);
        var conf = GatehouseConfLoader.LoadText(
            $"nginx_proxy_proxy_ssl_verify = on\nnginx_proxy_proxy_ssl_trusted_certificate = {file}\nnginx_proxy_proxy_ssl_verify_depth = 0\n",
            new Dictionary<string, string?>());
        Assert.True(conf.Options!.ProxySslVerify);
        await StartAsync(o => o with
        {
            ProxySslVerify = conf.Options!.ProxySslVerify,
            ProxySslTrustedCertificate = conf.Options!.ProxySslTrustedCertificate,
            ProxySslVerifyDepth = conf.Options!.ProxySslVerifyDepth,
        });
        await ServiceAsync(trusted.Port, new JsonObject(), "/trusted");
        var off = await ServiceAsync(untrusted.Port, new JsonObject(), "/untrusted");
        Assert.Equal((HttpStatusCode.OK, "client=none"), await GetAsync("upstream.test", "/trusted"));
        Assert.Equal(HttpStatusCode.BadGateway, (await GetAsync("upstream.test", "/untrusted")).Status);
        await PatchAsync($"/services/{off}", new JsonObject { ["tls_verify"] = false });
        Assert.Equal((HttpStatusCode.OK, "client=none"), await GetAsync("upstream.test", "/untrusted"));
    }

    [Fact]
    public async Task A_changed_profile_gets_a_new_invoker_and_the_old_one_is_released()
    {
        await using var upstream = await TlsUpstream.StartAsync(TestCertificates.Rsa("CN=upstream.test"));
        await StartAsync();
        var connector = (UpstreamConnector)_host!.Services.GetService(typeof(UpstreamConnector))!;
        var service = await ServiceAsync(upstream.Port, new JsonObject { ["tls_verify"] = true, ["tls_verify_depth"] = 3 });
        Assert.Equal(1, connector.ProfileCount);
        await PatchAsync($"/services/{service}", new JsonObject { ["tls_verify_depth"] = 4 });
        Assert.Equal(1, connector.ProfileCount);
        await PatchAsync($"/services/{service}", new JsonObject { ["tls_verify"] = false });
        Assert.Equal(0, connector.ProfileCount);
    }

    /// <summary>A request that took a profile's invoker from an older snapshot still goes out after the profile was
    /// retired (and its invoker disposed): through the profile's current invoker, never a disposed one.</summary>
    [Fact]
    public async Task A_retired_invoker_sends_through_the_current_one_of_its_profile()
    {
        var ca = TestCertificates.Ca("CN=Direct CA");
        await using var upstream = await TlsUpstream.StartAsync(TestCertificates.IssuedFor(ca, "upstream.test"));
        using var connector = new UpstreamConnector();
        var profile = new UpstreamTlsProfile(true, 1, ca.Cert, null, null);
        var held = connector.For(profile);
        connector.Retain(new HashSet<UpstreamTlsProfile>());
        Assert.Equal(0, connector.ProfileCount);

        using var request = new HttpRequestMessage(HttpMethod.Get, $"https://127.0.0.1:{upstream.Port}/");
        request.Headers.Host = "upstream.test";
        using var response = await held.SendAsync(request, CancellationToken.None);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, connector.ProfileCount);
    }

    private async Task StartAsync(Func<GatehouseOptions, GatehouseOptions>? configure = null)
    {
        var options = new GatehouseOptions
        {
            Prefix = _dir,
            ProxyListen = [ListenAddress.Parse("127.0.0.1:0")],
            AdminListen = [ListenAddress.Parse("127.0.0.1:0")],
            Database = DatabaseKind.Sqlite,
            LogLevel = "info",
            ProxyAccessLog = null,
        };
        _host = GatewayHost.Create(configure?.Invoke(options) ?? options, new GatewayHostOptions
        {
            ConfigureLogging = _logs.Install,
            ShutdownTimeout = TimeSpan.FromSeconds(5),
        });
        await _host.StartAsync();
        _admin = new HttpClient { BaseAddress = _host.Addresses(ListenerKind.Admin)[0] };
        _proxy = new HttpClient { BaseAddress = _host.Addresses(ListenerKind.Proxy)[0] };
    }

    private async Task<string> ServiceAsync(int port, JsonObject tls, string path = "/t")
    {
        tls["url"] = $"https://127.0.0.1:{port}";
        var id = await CreateAsync("/services", tls);
        await CreateAsync($"/services/{id}/routes", new JsonObject { ["paths"] = new JsonArray(path), ["preserve_host"] = true });
        return id;
    }

    private async Task<string> CreateAsync(string path, JsonObject body)
    {
        var (status, created) = await AdminCalls.SendAsync(_admin!, HttpMethod.Post, path, body);
        Assert.True(status == 201, $"POST {path}: {status} {created}");
        return created!["id"]!.GetValue<string>();
    }

    private async Task PatchAsync(string path, JsonObject body)
    {
        var (status, patched) = await AdminCalls.SendAsync(_admin!, HttpMethod.Patch, path, body);
        Assert.True(status == 200, $"PATCH {path}: {status} {patched}");
    }

    private async Task<(HttpStatusCode Status, string Body)> GetAsync(string host, string path = "/t")
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Host = host;
        using var response = await _proxy!.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    public async ValueTask DisposeAsync()
    {
        _admin?.Dispose();
        _proxy?.Dispose();
        if (_host is not null) await _host.DisposeAsync();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
