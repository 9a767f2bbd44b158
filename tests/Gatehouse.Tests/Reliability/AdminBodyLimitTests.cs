using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Tests.Admin;
using Gatehouse.Tests.Store;

namespace Gatehouse.Tests.Reliability;

/// <summary>
/// <c>admin_client_max_body_size</c>: an Admin body above it answers 413 (Kong's "Payload too large") before it is
/// buffered, whether its size is announced (Content-Length) or only counted (chunked), and nothing is stored. Raw
/// sockets, so that the test controls exactly how much of the body is ever sent.
/// </summary>
public sealed class AdminBodyLimitTests : IAsyncLifetime
{
    private const long Limit = 256 * 1024;
    private readonly TempDir _dir = new();
    private AdminTestHost _sqlite = null!;
    private AdminTestHost _dbless = null!;

    public async Task InitializeAsync()
    {
        _sqlite = await AdminTestHost.StartAsync(new GatehouseOptions
        {
            Database = DatabaseKind.Sqlite, SqlitePath = _dir.File("gh.db"), AdminClientMaxBodySize = Limit,
        });
        _dbless = await AdminTestHost.StartAsync(new GatehouseOptions { Database = DatabaseKind.Off, AdminClientMaxBodySize = Limit });
    }

    public async Task DisposeAsync()
    {
        await _sqlite.DisposeAsync();
        await _dbless.DisposeAsync();
        _dir.Dispose();
    }

    /// <summary>A service whose JSON body is padded (in a tag) to about <paramref name="size"/> bytes.</summary>
    private static byte[] ServiceJson(string name, long size)
    {
        var head = $"{{\"name\":\"{name}\",\"url\":\"http://a.internal\",\"tags\":[\"";
        const string tail = "\"]}";
        return Encoding.UTF8.GetBytes(head + new string('t', (int)Math.Max(1, size - head.Length - tail.Length)) + tail);
    }

    private static byte[] ConfigYaml(long size)
    {
        var head = "_format_version: \"3.0\"\n_comment: \"";
        return Encoding.UTF8.GetBytes(head + new string('c', (int)(size - head.Length - 2)) + "\"\n");
    }

    /// <summary>Sends the request head, then at most <paramref name="send"/> bytes of body (announced or chunked)
    /// while reading the answer concurrently; returns the status line and body of the answer.</summary>
    private static async Task<(int Status, string Head, string Body)> RawAsync(Uri baseUri, string path, string contentType,
        byte[] body, long? announcedLength, bool chunked)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, baseUri.Port);
        var stream = client.GetStream();
        var head = $"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {contentType}\r\n"
            + (chunked ? "Transfer-Encoding: chunked\r\n" : $"Content-Length: {announcedLength ?? body.Length}\r\n") + "\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
        var read = ReadAnswerAsync(stream);
        try
        {
            for (var offset = 0; offset < body.Length && !read.IsCompleted; offset += 16 * 1024)
            {
                var n = Math.Min(16 * 1024, body.Length - offset);
                if (chunked) await stream.WriteAsync(Encoding.ASCII.GetBytes($"{n:x}\r\n"));
                await stream.WriteAsync(body.AsMemory(offset, n));
                if (chunked) await stream.WriteAsync("\r\n"u8.ToArray());
            }
            if (chunked && !read.IsCompleted) await stream.WriteAsync("0\r\n\r\n"u8.ToArray());
        }
        catch (IOException)
        {
            // The server answered and closed while the rest of the body was still on its way: expected for 413.
        }
        return await read.WaitAsync(TimeSpan.FromSeconds(30));
    }

    private static async Task<(int Status, string Head, string Body)> ReadAnswerAsync(NetworkStream stream)
    {
        var buffer = new MemoryStream();
        var chunk = new byte[8192];
        while (true)
        {
            var text = Encoding.UTF8.GetString(buffer.ToArray());
            var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (end >= 0)
            {
                var head = text[..end];
                var lengthLine = head.Split("\r\n").FirstOrDefault(l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase));
                var length = lengthLine is null ? 0 : int.Parse(lengthLine["Content-Length:".Length..].Trim());
                if (buffer.Length - (end + 4) >= length)
                    return (int.Parse(head.Split(' ')[1]), head, text.Substring(end + 4, length));
            }
            var n = await stream.ReadAsync(chunk);
            if (n == 0) throw new IOException("connection closed before a whole answer: " + text);
            buffer.Write(chunk, 0, n);
        }
    }

    private static void AssertTooLarge((int Status, string Head, string Body) answer)
    {
        Assert.Equal(413, answer.Status);
        Assert.Contains("Connection: close", answer.Head, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("Payload too large", (string?)JsonNode.Parse(answer.Body)!["message"]);
    }

    [Fact]
    public async Task Oversized_post_services_announced_by_content_length_is_refused_before_the_body_is_sent()
    {
        // 100 MB announced, 1 byte sent: the answer cannot have waited for (or buffered) the body.
        AssertTooLarge(await RawAsync(_sqlite.Client.BaseAddress!, "/services", "application/json", "{"u8.ToArray(), 100L << 20, chunked: false));
        Assert.Empty((await _sqlite.GetAsync("/services")).Body!["data"]!.AsArray());
    }

    [Fact]
    public async Task Oversized_chunked_post_services_is_refused_once_counted_past_the_limit()
    {
        AssertTooLarge(await RawAsync(_sqlite.Client.BaseAddress!, "/services", "application/json", ServiceJson("big", 4 * Limit), null, chunked: true));
        Assert.Empty((await _sqlite.GetAsync("/services")).Body!["data"]!.AsArray());
    }

    [Fact]
    public async Task Oversized_form_and_multipart_bodies_are_refused_too()
    {
        var form = Encoding.ASCII.GetBytes("name=big&url=http://a.internal&tags[]=" + new string('t', (int)(2 * Limit)));
        AssertTooLarge(await RawAsync(_sqlite.Client.BaseAddress!, "/services", "application/x-www-form-urlencoded", form, null, chunked: true));
        AssertTooLarge(await RawAsync(_sqlite.Client.BaseAddress!, "/services", "multipart/form-data; boundary=x", new byte[2 * Limit], null, chunked: false));
        Assert.Empty((await _sqlite.GetAsync("/services")).Body!["data"]!.AsArray());
    }

    [Fact]
    public async Task A_body_at_the_limit_is_accepted()
    {
        var body = ServiceJson("at-limit", Limit);
        Assert.Equal(Limit, body.Length);
        var (status, _, _) = await RawAsync(_sqlite.Client.BaseAddress!, "/services", "application/json", body, null, chunked: true);
        Assert.Equal(201, status);
        Assert.Equal(201, (await RawAsync(_sqlite.Client.BaseAddress!, "/services", "application/json", ServiceJson("at-limit-2", Limit), null, chunked: false)).Status);
    }

    [Fact]
    public async Task Oversized_post_config_is_refused_both_ways_and_nothing_is_applied()
    {
        AssertTooLarge(await RawAsync(_dbless.Client.BaseAddress!, "/config", "application/x-yaml", ConfigYaml(2 * Limit), null, chunked: false));
        AssertTooLarge(await RawAsync(_dbless.Client.BaseAddress!, "/config", "application/x-yaml", ConfigYaml(2 * Limit), null, chunked: true));
        var json = Encoding.UTF8.GetBytes(new JsonObject { ["config"] = Encoding.UTF8.GetString(ConfigYaml(2 * Limit)) }.ToJsonString());
        AssertTooLarge(await RawAsync(_dbless.Client.BaseAddress!, "/config", "application/json", json, 200L << 20, chunked: false));
        Assert.Empty((await _dbless.GetAsync("/services")).Body!["data"]!.AsArray());
        // The limit counts the body, not the file: a config just under it loads.
        Assert.Equal(201, (await RawAsync(_dbless.Client.BaseAddress!, "/config", "application/x-yaml", ConfigYaml(Limit - 16), null, chunked: true)).Status);
    }

    [Fact]
    public async Task Refusing_a_chunked_100_mb_body_allocates_about_the_limit_not_the_body()
    {
        // The server stops reading at the limit; what the process allocates meanwhile is bounded by the limit,
        // not by the 100 MB the client offered (the old reader buffered it all, then kept a 100 MB array alive).
        var offered = new byte[100 << 20];
        Array.Fill(offered, (byte)'a');
        var before = GC.GetTotalAllocatedBytes(precise: true);
        AssertTooLarge(await RawAsync(_sqlite.Client.BaseAddress!, "/services", "application/json", offered, null, chunked: true));
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Assert.True(allocated < 40L << 20, $"{allocated / 1048576.0:F1} MB allocated");
    }

    [Fact]
    public async Task Default_limit_is_10m()
    {
        await using var host = await AdminTestHost.StartAsync(new GatehouseOptions { Database = DatabaseKind.Sqlite, SqlitePath = _dir.File("d.db") });
        AssertTooLarge(await RawAsync(host.Client.BaseAddress!, "/services", "application/json", "{"u8.ToArray(), (10L << 20) + 1, chunked: false));
        var (status, _, _) = await RawAsync(host.Client.BaseAddress!, "/services", "application/json", ServiceJson("ten", 2 << 20), null, chunked: false);
        Assert.Equal(201, status);
    }

    [Fact]
    public async Task Zero_means_unlimited()
    {
        await using var host = await AdminTestHost.StartAsync(new GatehouseOptions
        {
            Database = DatabaseKind.Sqlite, SqlitePath = _dir.File("z.db"), AdminClientMaxBodySize = 0,
        });
        host.Client.Timeout = TimeSpan.FromMinutes(2);
        var (status, _) = await host.SendRawAsync(HttpMethod.Post, "/services", ServiceJson("big", 11L << 20), "application/json");
        Assert.Equal(201, status);
    }
}
