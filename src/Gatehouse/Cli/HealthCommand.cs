using System.CommandLine;
using Gatehouse.Config;

namespace Gatehouse.Cli;

/// <summary><c>gatehouse health [-c CONF]</c>: asks a running node's <c>/status</c> (status_listen when enabled,
/// else admin_listen, with the conf's admin_token when set); exit 0 when it answers 200, 1 otherwise.</summary>
internal static class HealthCommand
{
    public static Command Create(CliContext cli)
    {
        var conf = ConfOptions.Conf();
        var command = new Command("health", "Check that a running node answers on /status") { conf };
        command.SetAction((parse, ct) => RunAsync(cli, parse.GetValue(conf), ct));
        return command;
    }

    private static async Task<int> RunAsync(CliContext cli, string? confPath, CancellationToken ct)
    {
        var options = ConfOptions.Load(cli, confPath, null);
        if (options is null) return 1;
        var onStatus = options.StatusListen.Count > 0;
        var listen = onStatus ? options.StatusListen[0] : options.AdminListen.FirstOrDefault();
        if (listen is null)
        {
            cli.Error.WriteLine("error: admin_listen and status_listen are both off; nothing to ask");
            return 1;
        }
        var url = StatusUrl(listen);
        using var client = new HttpClient(new SocketsHttpHandler
        {
            SslOptions = new System.Net.Security.SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, _, _, _) => true },
        }) { Timeout = TimeSpan.FromSeconds(5) };
        // the status listener needs no token; the Admin API does when admin_token is set
        if (!onStatus && options.AdminToken is { } token) client.DefaultRequestHeaders.Add(Admin.AdminGuard.TokenHeader, token);
        try
        {
            using var response = await client.GetAsync(url, ct);
            if (response.IsSuccessStatusCode)
            {
                cli.Out.WriteLine($"Gatehouse is healthy at {url}");
                return 0;
            }
            cli.Error.WriteLine($"Gatehouse is not healthy: {url} answered {(int)response.StatusCode}");
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            cli.Error.WriteLine($"Gatehouse is not running: {url}: {e.Message}");
        }
        return 1;
    }

    private static Uri StatusUrl(ListenAddress listen)
    {
        var host = listen.Host is "0.0.0.0" or "*" ? "127.0.0.1" : listen.Host is "::" ? "[::1]" : listen.Host.Contains(':') ? $"[{listen.Host}]" : listen.Host;
        return new Uri($"{(listen.Ssl ? "https" : "http")}://{host}:{listen.Port}/status");
    }
}
