using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Gatehouse.Tests.Store;

namespace Gatehouse.Tests.Plugins;

/// <summary>A private <c>redis-server</c> on 127.0.0.1 (free port, temp dir, no persistence), killed on dispose.
/// Fails — never skips — when redis-server is not installed: CI (<c>.ci/run</c>) installs it.</summary>
internal sealed class RedisServer : IDisposable
{
    private readonly Process _process;
    private readonly TempDir _dir;

    private RedisServer(Process process, TempDir dir, int port)
    {
        _process = process;
        _dir = dir;
        Port = port;
    }

    public int Port { get; }

    public static async Task<RedisServer> StartAsync()
    {
        var dir = new TempDir();
        var port = Infrastructure.EchoUpstream.FreePort();
        var info = new ProcessStartInfo("redis-server")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
                     "--save", "", "--appendonly", "no", "--dir", dir.Path })
            info.ArgumentList.Add(arg);
        Process process;
        try
        {
            process = Process.Start(info) ?? throw new InvalidOperationException("redis-server did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            dir.Dispose();
            throw new InvalidOperationException(
                "redis-server is not on PATH; install it (apt-get install -y redis-server; .ci/run does) to run the rate-limiting redis tests", e);
        }
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new RedisServer(process, dir, port);
        for (var i = 0; i < 100; i++)
        {
            if (await server.PingAsync()) return server;
            if (process.HasExited) break;
            await Task.Delay(50);
        }
        server.Dispose();
        throw new InvalidOperationException($"redis-server did not answer PING on 127.0.0.1:{port}");
    }

    /// <summary>Sends one raw RESP command and returns the reply line (e.g. ":3" for an integer).</summary>
    public async Task<string> CommandAsync(params string[] args)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, Port);
        var stream = client.GetStream();
        var sb = new StringBuilder().Append('*').Append(args.Length).Append("\r\n");
        foreach (var a in args) sb.Append('$').Append(Encoding.UTF8.GetByteCount(a)).Append("\r\n").Append(a).Append("\r\n");
        await stream.WriteAsync(Encoding.UTF8.GetBytes(sb.ToString()));
        var buffer = new byte[4096];
        var n = await stream.ReadAsync(buffer);
        return Encoding.UTF8.GetString(buffer, 0, n).TrimEnd('\r', '\n');
    }

    private async Task<bool> PingAsync()
    {
        try { return await CommandAsync("PING") == "+PONG"; }
        catch (SocketException) { return false; }
        catch (IOException) { return false; }
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit(5000);
            }
        }
        finally
        {
            _process.Dispose();
            _dir.Dispose();
        }
    }
}
