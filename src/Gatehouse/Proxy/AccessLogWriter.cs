using System.Text.Json;
using System.Threading.Channels;
using Gatehouse.Config;
using Gatehouse.Proxy.Pipeline;

namespace Gatehouse.Proxy;

/// <summary>
/// One JSON line per proxied request to proxy_access_log (a path, "stdout" or "stderr"; nothing when off). Lines are
/// formatted on the request thread and written by one background task, so requests never wait for the disk.
/// Fields: time, request_id, client_ip, method, uri, protocol, status, request_size, response_size, latencies {request,
/// proxy, upstream} in ms, route_id, service_id, upstream_status, upstream_addr.
/// </summary>
public sealed class AccessLogWriter : IAsyncDisposable
{
    private readonly Channel<byte[]>? _channel;
    private readonly Task? _pump;
    private readonly TimeProvider _time;

    public bool Enabled => _channel is not null;

    public AccessLogWriter(GatehouseOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        _time = time ?? throw new ArgumentNullException(nameof(time));
        if (options.ProxyAccessLog is not { } target) return;
        // opened here so that a bad path stops the start with an error instead of failing silently later
        var stream = Open(target);
        _channel = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(16_384)
        { SingleReader = true, FullMode = BoundedChannelFullMode.DropWrite });
        _pump = Task.Run(() => PumpAsync(stream));
    }

    public void Write(ProxyContext context)
    {
        if (_channel is null) return;
        _channel.Writer.TryWrite(Format(context, _time.GetUtcNow()));
    }

    internal static byte[] Format(ProxyContext context, DateTimeOffset now)
    {
        var http = context.HttpContext;
        using var buffer = new MemoryStream(256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("time", now.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture));
            json.WriteString("request_id", http.TraceIdentifier);
            json.WriteString("client_ip", http.Connection.RemoteIpAddress?.ToString());
            json.WriteString("method", http.Request.Method);
            json.WriteString("uri", RawRequestTarget.PathAndQuery(http)); // as received: ASP.NET's Path re-encodes %2F
            json.WriteString("protocol", http.Request.Protocol);
            json.WriteNumber("status", http.Response.StatusCode);
            json.WriteNumber("request_size", http.Request.ContentLength ?? 0);
            json.WriteNumber("response_size", context.ResponseBodyBytes);
            json.WriteStartObject("latencies");
            json.WriteNumber("request", context.Timings.TotalMs);
            json.WriteNumber("proxy", context.Timings.ProxyLatencyMs);
            json.WriteNumber("upstream", context.Timings.UpstreamLatencyMs);
            json.WriteEndObject();
            WriteId(json, "route_id", context.Route?.Id);
            WriteId(json, "service_id", context.Service?.Id);
            if (context.UpstreamStatus is { } us) json.WriteNumber("upstream_status", us);
            else json.WriteNull("upstream_status");
            // nginx's $upstream_addr: the peers tried (balanced services)
            if (PeerTries.UpstreamAddr(context) is { } addr) json.WriteString("upstream_addr", addr);
            else json.WriteNull("upstream_addr");
            json.WriteEndObject();
        }
        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }

    private static void WriteId(Utf8JsonWriter json, string name, Guid? id)
    {
        if (id is { } v) json.WriteString(name, v);
        else json.WriteNull(name);
    }

    private static Stream Open(string target) => target switch
    {
        "stdout" => Console.OpenStandardOutput(),
        "stderr" => Console.OpenStandardError(),
        _ => new FileStream(target, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, 4096, useAsync: true),
    };

    private async Task PumpAsync(Stream output)
    {
        var reader = _channel!.Reader;
        await using var stream = output;
        while (await reader.WaitToReadAsync())
        {
            while (reader.TryRead(out var line)) await stream.WriteAsync(line);
            await stream.FlushAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_channel is null) return;
        _channel.Writer.TryComplete();
        try { await _pump!; } catch (IOException) { }
    }
}
