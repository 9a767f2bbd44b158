using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Tests.Infrastructure;

/// <summary>
/// A real Kestrel upstream on 127.0.0.1:0 (HTTP/1.1 on <see cref="Port"/>, h2c prior knowledge on <see cref="H2cPort"/>) that answers every request with a
/// JSON reflection of it: method, path, query, protocol, headers (lower-case names) and body. <c>/delay/{ms}</c>
/// waits before answering; a WebSocket request to any path is echoed message by message.
/// </summary>
public sealed class EchoUpstream : IAsyncDisposable
{
    private readonly WebApplication _app;
    private long _requests;

    private EchoUpstream(WebApplication app, int port, int h2cPort)
    {
        _app = app;
        Port = port;
        H2cPort = h2cPort;
    }

    public int Port { get; }
    /// <summary>Cleartext HTTP/2 with prior knowledge (Kestrel cannot offer both on one cleartext port).</summary>
    public int H2cPort { get; }
    public string Host => "127.0.0.1";
    /// <summary>Requests received so far (any path, any protocol).</summary>
    public long RequestCount => Interlocked.Read(ref _requests);
    public Uri BaseUri => new($"http://127.0.0.1:{Port}");

    public static async Task<EchoUpstream> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http1);
            k.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http2);
        });
        var app = builder.Build();
        app.UseWebSockets();
        EchoUpstream? self = null;
        app.Run(http =>
        {
            Interlocked.Increment(ref self!._requests);
            return HandleAsync(http);
        });
        await app.StartAsync();
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.ToArray();
        return self = new EchoUpstream(app, new Uri(addresses[0]).Port, new Uri(addresses[1]).Port);
    }

    private static async Task HandleAsync(HttpContext http)
    {
        if (http.WebSockets.IsWebSocketRequest)
        {
            await EchoWebSocketAsync(http);
            return;
        }
        var path = http.Request.Path.Value ?? "/";
        if (path.StartsWith("/delay/", StringComparison.Ordinal) && int.TryParse(path.AsSpan(7), out var ms))
        {
            // flush nothing: the delay happens before the response headers, as a slow upstream would
            await Task.Delay(ms, http.RequestAborted);
        }
        if (path.StartsWith("/bytes/", StringComparison.Ordinal) && int.TryParse(path.AsSpan(7), out var size))
        {
            await WriteBytesAsync(http, size);
            return;
        }
        using var reader = new StreamReader(http.Request.Body);
        var body = await reader.ReadToEndAsync(http.RequestAborted);
        var echo = new EchoResponse(
            http.Request.Method,
            http.Request.Path.ToUriComponent(),
            http.Request.QueryString.Value ?? "",
            http.Request.Protocol,
            http.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString()),
            body);
        http.Response.ContentType = "application/json";
        http.Response.Headers["X-Echo"] = "1";
        await JsonSerializer.SerializeAsync(http.Response.Body, echo, EchoResponse.Json, http.RequestAborted);
    }

    /// <summary><c>/bytes/{n}[?chunks=k]</c>: n × 'a' as text/plain with a Content-Length, in one write or in k
    /// flushed writes 30 ms apart (so the proxy reads them as separate chunks).</summary>
    private static async Task WriteBytesAsync(HttpContext http, int size)
    {
        var chunks = int.TryParse(http.Request.Query["chunks"], out var k) && k > 1 ? k : 1;
        http.Response.ContentType = "text/plain";
        http.Response.ContentLength = size;
        var body = new byte[size];
        Array.Fill(body, (byte)'a');
        var step = (size + chunks - 1) / chunks;
        for (var offset = 0; offset < size; offset += step)
        {
            if (offset > 0) await Task.Delay(30, http.RequestAborted);
            await http.Response.Body.WriteAsync(body.AsMemory(offset, Math.Min(step, size - offset)), http.RequestAborted);
            await http.Response.Body.FlushAsync(http.RequestAborted);
        }
    }

    private static async Task EchoWebSocketAsync(HttpContext http)
    {
        using var socket = await http.WebSockets.AcceptWebSocketAsync();
        var buffer = new byte[4096];
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, http.RequestAborted);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", http.RequestAborted);
                return;
            }
            await socket.SendAsync(buffer.AsMemory(0, result.Count), result.MessageType, result.EndOfMessage, http.RequestAborted);
        }
    }

    /// <summary>A port free now, for a listener the test starts itself (bound, then released).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>A port nothing listens on: a socket stays bound to it, without listening, for the rest of the test
    /// run, so connecting is refused and no other test's listener can be given the port (a port released at once
    /// was sometimes handed to another test's server, which then answered 404 where a refusal was expected).</summary>
    public static int ClosedPort()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        HeldClosedPorts.Add(socket);
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    private static readonly System.Collections.Concurrent.ConcurrentBag<Socket> HeldClosedPorts = [];

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>What <see cref="EchoUpstream"/> answers.</summary>
public sealed record EchoResponse(string Method, string Path, string Query, string Protocol,
    Dictionary<string, string> Headers, string Body)
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public string? Header(string name) => Headers.TryGetValue(name.ToLowerInvariant(), out var v) ? v : null;
}
