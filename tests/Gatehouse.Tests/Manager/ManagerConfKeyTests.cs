using Gatehouse.Config;

namespace Gatehouse.Tests.Manager;

/// <summary>Issue 17: Kong's admin_gui_* keys: admin_gui_listen (Kong's key, loopback default when the Admin API
/// listens, <c>off</c>, <c>ssl</c> with admin_gui_ssl_cert/_key), admin_gui_api_url, and the admin_gui_* keys the Manager
/// does not implement refused by name.</summary>
public sealed class ManagerConfKeyTests
{
    private static ConfLoadResult Load(string text) => GatehouseConfLoader.LoadText(text, new Dictionary<string, string?>());

    [Fact]
    public void Admin_gui_listen_defaults_to_loopback_8002_when_the_admin_api_listens()
    {
        var options = Load("").Options!;
        Assert.Equal("127.0.0.1", Assert.Single(options.AdminGuiListen).Host);
        Assert.Equal(8002, options.AdminGuiListen[0].Port);
        Assert.Empty(Load("admin_listen = off\n").Options!.AdminGuiListen);
        Assert.Empty(Load("admin_gui_listen = off\n").Options!.AdminGuiListen);
        var two = Load("admin_gui_listen = 0.0.0.0:9002, 127.0.0.1:9003\n").Options!;
        Assert.Equal([9002, 9003], two.AdminGuiListen.Select(l => l.Port));
        Assert.Null(options.AdminGuiApiUrl);
    }

    [Fact]
    public void Admin_gui_api_url_is_a_url()
    {
        Assert.Equal(new Uri("https://admin.example:8444/"), Load("admin_gui_api_url = https://admin.example:8444\n").Options!.AdminGuiApiUrl);
        var bad = Load("admin_gui_api_url = admin.example:8444\n");
        Assert.Null(bad.Options);
        Assert.Contains(bad.Errors, e => e.StartsWith("admin_gui_api_url: 'admin.example:8444' is not a URL", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("admin_gui_path = /manager", "admin_gui_path: '/manager' is not supported")]
    [InlineData("admin_gui_csp_header = on", "admin_gui_csp_header: 'on' is not supported")]
    public void The_admin_gui_keys_the_manager_does_not_implement_are_refused_by_name(string line, string error)
    {
        var result = Load(line + "\n");
        Assert.Null(result.Options);
        Assert.Contains(result.Errors, e => e.StartsWith(error, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("admin_gui_ssl_cert = /tmp/x.crt\nadmin_gui_ssl_cert_key = /tmp/x.key", "admin_gui_ssl_cert: set, but no admin_gui_listen entry has 'ssl'")]
    [InlineData("admin_gui_listen = 127.0.0.1:8445 ssl\nadmin_gui_ssl_cert = /tmp/x.crt", "admin_gui_ssl_cert: admin_gui_ssl_cert and admin_gui_ssl_cert_key go together")]
    [InlineData("admin_gui_listen = 127.0.0.1:8445 ssl\nadmin_gui_ssl_cert = /nonexistent/x.crt\nadmin_gui_ssl_cert_key = /nonexistent/x.key", "admin_gui_ssl_cert: file '/nonexistent/x.crt' does not exist")]
    public void Admin_gui_ssl_cert_goes_with_an_ssl_admin_gui_listen_and_files_that_exist(string lines, string error)
    {
        var result = Load(lines + "\n");
        Assert.Null(result.Options);
        Assert.Contains(result.Errors, e => e.StartsWith(error, StringComparison.Ordinal));
        // ssl alone: the self-signed default, as Kong
        var ssl = Load("admin_gui_listen = 127.0.0.1:8445 ssl\n").Options!;
        Assert.True(Assert.Single(ssl.AdminGuiListen).Ssl);
        Assert.Null(ssl.AdminGuiSslCert);
    }

    [Theory]
    [InlineData("admin_gui_path = /")]
    [InlineData("admin_gui_csp_header = off")]
    [InlineData("admin_gui_access_log = logs/admin_gui_access.log")]
    public void Kongs_defaults_of_those_keys_are_accepted(string line) => Assert.NotNull(Load(line + "\n").Options);
}
