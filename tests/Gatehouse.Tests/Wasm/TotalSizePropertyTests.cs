using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Model;
using Gatehouse.Proxy;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Tests.Plugins;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Tests.Wasm;

/// <summary>
/// <c>request.total_size</c> and <c>response.total_size</c>, ngx_wasm_module's <c>$request_length</c> and
/// <c>$bytes_sent</c>: the request's bytes consumed (request line, headers, then the body as read, chunked framing
/// included) and the response's bytes written (status line, headers, body and its framing). A raw client writes known
/// bytes over a socket and counts the bytes it gets back, so every expected figure is exact. The real C <c>phases</c>
/// filter reads both in <c>on_request_headers</c> (reported in a response header) and in <c>on_log</c> (logged, then
/// <c>log-done</c>), as <c>phases_ngx</c> (ngx_wasm_module's text) and <c>phases</c> (Envoy's little-endian int64).
/// </summary>
public sealed class TotalSizePropertyTests : IAsyncLifetime
{
    private const string NotFound = "!status=1";
    private readonly string _filters = WasmPaths.CopyFilters(Path.Combine(WasmPaths.Repo, "filters", "test"), "phases");
    private readonly FilterLogCapture _logs = new();
    private EchoUpstream _upstream = null!;
    private GatewayFixture _gateway = null!;

    public async Task InitializeAsync()
    {
        File.Copy(Path.Combine(_filters, "phases.wasm"), Path.Combine(_filters, "phases_ngx.wasm"));
        await File.WriteAllTextAsync(Path.Combine(_filters, "phases_ngx.meta.json"), """{"property_encoding":"ngx_wasm_module"}""");
        var certificate = TestCertificates.Rsa("CN=sizes.test");
        await File.WriteAllTextAsync(Path.Combine(_filters, "server.pem"), certificate.Cert);
        await File.WriteAllTextAsync(Path.Combine(_filters, "server.key"), certificate.Key);
        _upstream = await EchoUpstream.StartAsync();
        // HTTP/1.1, h2c, HTTPS (HTTP/1.1), and HTTPS with HTTP/2 by ALPN
        _gateway = await GatewayFixture.StartAsync(
            configure: o => o with
            {
                Wasm = true, WasmFiltersPath = _filters, ProxyAccessLog = null, LogLevel = "info",
                ProxyListen = [ListenAddress.Parse("127.0.0.1:0"), ListenAddress.Parse("127.0.0.1:0 http2"), ListenAddress.Parse("127.0.0.1:0 ssl"),
                    ListenAddress.Parse("127.0.0.1:0 ssl http2")],
                SslCert = Path.Combine(_filters, "server.pem"), SslCertKey = Path.Combine(_filters, "server.key"),
            },
            services: s => s.AddSingleton<ILoggerProvider>(_logs));
        var service = TestConfig.Service(_upstream);
        RouteModel[] routes =
        [
            TestConfig.Route(service, "ngx", paths: ["/ngx"]),
            TestConfig.Route(service, "envoy", paths: ["/envoy"]),
            TestConfig.Route(service, "rewritten", paths: ["/rewritten"]),
            TestConfig.Route(service, "denied", paths: ["/denied"]),
        ];
        static JsonObject Read(string name) => new() { ["action"] = "get_property", ["name"] = name };
        JsonObject Config(JsonNode? responseBody = null, JsonNode? denied = null)
        {
            var config = new JsonObject
            {
                ["log_phases"] = false,
                ["request_headers"] = new JsonArray(Read("request.total_size"), Read("ngx.request_length"), denied),
                ["response_headers"] = new JsonArray(Read("response.total_size"), Read("ngx.bytes_sent")),
                ["log"] = new JsonArray(Read("request.total_size"), Read("response.total_size"),
                    new JsonObject { ["action"] = "log", ["message"] = "log-done" }),
            };
            if (responseBody is not null) config["response_body"] = responseBody;
            return config;
        }
        FilterChainModel Chain(RouteModel route, string filter, JsonObject config) =>
            new() { Id = Guid.NewGuid(), RouteId = route.Id, Filters = [new(filter, true, config.ToJsonString())] };
        _gateway.Publish(TestConfig.Of([service], routes) with
        {
            FilterChains =
            [
                Chain(routes[0], "phases_ngx", Config()),
                Chain(routes[1], "phases", Config()),
                // a body filter replaces the upstream's body: the bytes sent are the new body's
                Chain(routes[2], "phases_ngx", Config(new JsonArray("buffer",
                    new JsonObject { ["action"] = "set_body", ["body"] = "replaced by the filter, longer than nothing" }))),
                Chain(routes[3], "phases_ngx", Config(denied: new JsonObject { ["action"] = "local_response", ["status"] = 403, ["body"] = "no" })),
            ],
        });
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
        Directory.Delete(_filters, true);
    }

    [Fact]
    public async Task Keep_alive_requests_each_count_their_own_bytes_in_both_encodings()
    {
        var get = Request("GET /ngx/first?x=1 HTTP/1.1\r\nHost: sizes.test\r\nUser-Agent: raw\r\nX-Pad: " + new string('p', 300) + "\r\n\r\n");
        var post = Request("POST /ngx/second HTTP/1.1\r\nHost: sizes.test\r\nContent-Length: 11\r\n\r\n", "hello world");
        var envoy = Request("PUT /envoy/third HTTP/1.1\r\nHost: sizes.test\r\nContent-Length: 3\r\n\r\n", "abc");
        using var client = await RawClient.ConnectAsync(_gateway.ProxyUri);
        var responses = new List<RawResponse>();
        foreach (var request in new[] { get, post, envoy })
        {
            await client.WriteAsync(request.Bytes);
            responses.Add(await client.ReadResponseAsync());
        }
        var logged = await LogReadsAsync(3);
        RawRequest[] ngx = [get, post];
        for (var i = 0; i < ngx.Length; i++)
        {
            // on_request_headers: the head only, the body is not read yet (ngx: "request.total_size: 187 at RequestHeaders")
            Assert.Equal(Text(ngx[i].HeadLength), responses[i].Header("x-property-request.total_size"));
            Assert.Equal("0", responses[i].Header("x-property-response.total_size")); // nothing sent yet
            // the nginx variables themselves, as ngx.<var>
            Assert.Equal(Text(ngx[i].HeadLength), responses[i].Header("x-property-ngx.request_length"));
            Assert.Equal("0", responses[i].Header("x-property-ngx.bytes_sent"));
            Assert.Equal((Text(ngx[i].Length), Text(responses[i].Length)), logged[i]);
        }
        Assert.Equal(envoy.HeadLength, Int64(responses[2].Header("x-property-request.total_size")));
        Assert.Equal(0, Int64(responses[2].Header("x-property-response.total_size")));
        Assert.Equal(envoy.Length, Int64(logged[2].Request));
        Assert.Equal(responses[2].Length, Int64(logged[2].Response));
    }

    [Fact]
    public async Task Pipelined_requests_with_a_chunked_body_each_count_exactly_their_bytes()
    {
        var chunked = Request("POST /ngx/chunked HTTP/1.1\r\nHost: sizes.test\r\nTransfer-Encoding: chunked\r\n\r\n",
            "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n");
        var second = Request("GET /ngx/after HTTP/1.1\r\nHost: sizes.test\r\n\r\n");
        using var client = await RawClient.ConnectAsync(_gateway.ProxyUri);
        await client.WriteAsync([.. chunked.Bytes, .. second.Bytes]); // one write: the second waits in the gateway's buffer
        var first = await client.ReadResponseAsync();
        var next = await client.ReadResponseAsync();
        Assert.Contains("hello world", first.Body, StringComparison.Ordinal); // the upstream got the de-chunked body
        var logged = await LogReadsAsync(2);
        Assert.Equal((Text(chunked.Length), Text(first.Length)), logged[0]);
        Assert.Equal((Text(second.Length), Text(next.Length)), logged[1]);
        Assert.Equal(Text(second.HeadLength), next.Header("x-property-request.total_size"));
    }

    [Fact]
    public async Task A_body_filter_that_changes_the_response_changes_the_bytes_sent()
    {
        var request = Request("GET /rewritten HTTP/1.1\r\nHost: sizes.test\r\n\r\n");
        using var client = await RawClient.ConnectAsync(_gateway.ProxyUri);
        await client.WriteAsync(request.Bytes);
        var response = await client.ReadResponseAsync();
        Assert.Equal("replaced by the filter, longer than nothing", response.Body);
        var logged = await LogReadsAsync(1);
        Assert.Equal((Text(request.Length), Text(response.Length)), logged[0]);
    }

    [Fact]
    public async Task After_a_local_response_the_unread_body_is_no_ones_and_the_next_request_counts_exactly()
    {
        var denied = Request("POST /denied HTTP/1.1\r\nHost: sizes.test\r\nContent-Length: 10\r\n\r\n", "0123456789");
        var next = Request("GET /ngx/next HTTP/1.1\r\nHost: sizes.test\r\n\r\n");
        using var client = await RawClient.ConnectAsync(_gateway.ProxyUri);
        await client.WriteAsync(denied.Bytes);
        var refused = await client.ReadResponseAsync();
        Assert.Equal(403, refused.Status);
        await client.WriteAsync(next.Bytes);
        var answered = await client.ReadResponseAsync();
        Assert.Equal(200, answered.Status);
        var logged = await LogReadsAsync(2);
        // as nginx: the refused request's length is what was read of it (its head); Kestrel drains the rest
        Assert.Equal((Text(denied.HeadLength), Text(refused.Length)), logged[0]);
        Assert.Equal((Text(next.Length), Text(answered.Length)), logged[1]);
    }

    [Fact]
    public async Task After_an_unread_chunked_body_the_next_request_is_not_found_rather_than_wrong()
    {
        var denied = Request("POST /denied HTTP/1.1\r\nHost: sizes.test\r\nTransfer-Encoding: chunked\r\n\r\n", "3\r\nabc\r\n0\r\n\r\n");
        var next = Request("GET /ngx/next HTTP/1.1\r\nHost: sizes.test\r\n\r\n");
        var after = Request("GET /ngx/after HTTP/1.1\r\nHost: sizes.test\r\n\r\n");
        using var client = await RawClient.ConnectAsync(_gateway.ProxyUri);
        await client.WriteAsync(denied.Bytes);
        Assert.Equal(403, (await client.ReadResponseAsync()).Status);
        await client.WriteAsync(next.Bytes);
        var answered = await client.ReadResponseAsync();
        await client.WriteAsync(after.Bytes);
        var last = await client.ReadResponseAsync();
        var logged = await LogReadsAsync(3);
        // where the drained chunked body ended is not known: not found, never a wrong figure; the bytes sent are known
        Assert.Equal((NotFound, Text(answered.Length)), logged[1]);
        Assert.Equal((Text(after.Length), Text(last.Length)), logged[2]); // the request after it counts again
    }

    [Fact]
    public async Task Over_TLS_the_bytes_are_the_decrypted_requests_and_responses()
    {
        var get = Request("GET /ngx/tls HTTP/1.1\r\nHost: sizes.test\r\n\r\n");
        var post = Request("POST /ngx/tls HTTP/1.1\r\nHost: sizes.test\r\nContent-Length: 4\r\n\r\n", "ping");
        using var client = await RawClient.ConnectAsync(_gateway.Host.Addresses(ListenerKind.Proxy)[2], tls: true);
        await client.WriteAsync(get.Bytes);
        var first = await client.ReadResponseAsync();
        await client.WriteAsync(post.Bytes);
        var second = await client.ReadResponseAsync();
        var logged = await LogReadsAsync(2);
        Assert.Equal((Text(get.Length), Text(first.Length)), logged[0]);
        Assert.Equal((Text(post.Length), Text(second.Length)), logged[1]);
    }

    [Fact]
    public async Task Over_h2c_each_stream_counts_its_header_block_and_body_read_and_its_frames_sent_as_nginx()
    {
        using var client = await RawH2Client.ConnectAsync(_gateway.Host.Addresses(ListenerKind.Proxy)[1], tls: false);
        // GET: a padded HEADERS frame with a priority, continued in a CONTINUATION frame (nginx counts the fragments only)
        var get = RawH2Client.HeaderBlock(("GET", "/ngx/h2?x=1"), ("x-pad", new string('p', 300)), ("user-agent", "raw-h2"));
        await client.WriteFrameAsync(RawH2Client.Headers, RawH2Client.Padded | RawH2Client.Priority | RawH2Client.EndStream, 1,
            [7, 0, 0, 0, 0, 15, .. get[..100], .. new byte[7]]);
        await client.WriteFrameAsync(RawH2Client.Continuation, RawH2Client.EndHeaders, 1, get[100..]);
        var first = await client.ReadResponseAsync(1);
        var logged = await ReadsAsync(1);
        Assert.Equal(200, first.Status);
        Assert.Equal((get.Length, 0L, (long)get.Length, first.Length), (logged.HeadersRequest, logged.HeadersResponse, logged.LogRequest, logged.LogResponse));
        // POST on the same connection: the body in two DATA frames, one padded (its padding is not body)
        var post = RawH2Client.HeaderBlock(("POST", "/ngx/h2post"), ("content-length", "11"));
        await client.WriteFrameAsync(RawH2Client.Headers, RawH2Client.EndHeaders, 3, post);
        await client.WriteFrameAsync(RawH2Client.Data, RawH2Client.Padded, 3, [4, .. "hello"u8, 0, 0, 0, 0]);
        await client.WriteFrameAsync(RawH2Client.Data, RawH2Client.EndStream, 3, " world"u8.ToArray());
        var second = await client.ReadResponseAsync(3);
        Assert.Contains("hello world", second.Body, StringComparison.Ordinal); // the upstream got the body
        logged = await ReadsAsync(2);
        // on_request_headers: the header block only, the body is not read yet
        Assert.Equal((post.Length, 0L, post.Length + 11L, second.Length), (logged.HeadersRequest, logged.HeadersResponse, logged.LogRequest, logged.LogResponse));
        // Envoy's encoding (little-endian int64): the same figures
        var put = RawH2Client.HeaderBlock(("PUT", "/envoy/h2"), ("content-length", "3"));
        await client.WriteFrameAsync(RawH2Client.Headers, RawH2Client.EndHeaders, 5, put);
        await client.WriteFrameAsync(RawH2Client.Data, RawH2Client.EndStream, 5, "abc"u8.ToArray());
        var third = await client.ReadResponseAsync(5);
        logged = await ReadsAsync(3);
        Assert.Equal((put.Length, 0L, put.Length + 3L, third.Length), (logged.HeadersRequest, logged.HeadersResponse, logged.LogRequest, logged.LogResponse));
    }

    [Fact]
    public async Task Over_HTTP2_by_ALPN_a_body_filters_response_is_counted_as_the_frames_sent()
    {
        using var client = await RawH2Client.ConnectAsync(_gateway.Host.Addresses(ListenerKind.Proxy)[3], tls: true);
        var get = RawH2Client.HeaderBlock(("GET", "/rewritten"), scheme: "https"); // Kestrel refuses a scheme unlike the transport's
        await client.WriteFrameAsync(RawH2Client.Headers, RawH2Client.EndHeaders | RawH2Client.EndStream, 1, get);
        var response = await client.ReadResponseAsync(1);
        Assert.Equal("replaced by the filter, longer than nothing", response.Body);
        var logged = await ReadsAsync(1);
        Assert.Equal(((long)get.Length, response.Length), (logged.LogRequest, logged.LogResponse));
    }

    [Fact]
    public async Task Over_HTTP2_with_HttpClient_the_body_read_adds_to_the_header_block()
    {
        using var client = _gateway.CreateClient(HttpVersion.Version20);
        using var response = await client.PostAsync("/ngx/h2", new StringContent("hello"));
        Assert.Equal(HttpVersion.Version20, response.Version);
        var head = long.Parse(response.Headers.GetValues("x-property-request.total_size").Single(), CultureInfo.InvariantCulture);
        Assert.InRange(head, 10, 400); // HPACK-compressed: far less than the headers' text
        Assert.Equal("0", response.Headers.GetValues("x-property-response.total_size").Single());
        var logged = (await LogReadsAsync(1))[0];
        Assert.Equal(Text(head + 5), logged.Request);
        Assert.InRange(long.Parse(logged.Response, CultureInfo.InvariantCulture), 9 + 9 + 5, 4096);
    }

    /// <summary>The figures of the <paramref name="count"/>-th request: what on_request_headers, on_response_headers and
    /// on_log read (either encoding), from the filter's log.</summary>
    private async Task<(long HeadersRequest, long HeadersResponse, long LogRequest, long LogResponse)> ReadsAsync(int count)
    {
        await _logs.WaitForAsync("log-done", count);
        var messages = _logs.Messages;
        var done = messages.Select((m, i) => (m, i)).Where(x => x.m == "log-done").Select(x => x.i).ToList();
        var block = messages.Skip(count == 1 ? 0 : done[count - 2] + 1).Take(done[count - 1] - (count == 1 ? 0 : done[count - 2] + 1)).ToList();
        long Figure(string message, string name)
        {
            var value = Value(message, name);
            return value.StartsWith("hex:", StringComparison.Ordinal) ? Int64(value) : long.Parse(value, CultureInfo.InvariantCulture);
        }
        var requests = block.Where(m => m.StartsWith("property:request.total_size=", StringComparison.Ordinal)).ToList();
        var responses = block.Where(m => m.StartsWith("property:response.total_size=", StringComparison.Ordinal)).ToList();
        return (Figure(requests[0], "request.total_size"), Figure(responses[0], "response.total_size"),
            Figure(requests[^1], "request.total_size"), Figure(responses[^1], "response.total_size"));
    }

    /// <summary>The (request, response) values each on_log read, in request order.</summary>
    private async Task<List<(string Request, string Response)>> LogReadsAsync(int count)
    {
        await _logs.WaitForAsync("log-done", count);
        var messages = _logs.Messages;
        var reads = new List<(string, string)>();
        for (var i = 0; i < messages.Count; i++)
        {
            if (messages[i] != "log-done") continue;
            reads.Add((Value(messages[i - 2], "request.total_size"), Value(messages[i - 1], "response.total_size")));
        }
        Assert.Equal(count, reads.Count);
        return reads;
    }

    private static string Value(string message, string name)
    {
        var prefix = $"property:{name}=";
        Assert.StartsWith(prefix, message);
        return message[prefix.Length..];
    }

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static long Int64(string reported)
    {
        Assert.StartsWith("hex:", reported);
        return BinaryPrimitives.ReadInt64LittleEndian(Convert.FromHexString(reported[4..]));
    }

    private static RawRequest Request(string head, string body = "") => new(Encoding.ASCII.GetBytes(head + body), head.Length);

    private sealed record RawRequest(byte[] Bytes, int HeadLength)
    {
        public int Length => Bytes.Length;
    }

    private sealed record RawResponse(int Status, Dictionary<string, string> Headers, string Body, int Length)
    {
        public string Header(string name) => Headers.TryGetValue(name, out var v) ? v : throw new InvalidOperationException("no " + name);
    }

    /// <summary>A client that writes raw bytes and counts every byte of each response (Content-Length or chunked).</summary>
    private sealed class RawClient : IDisposable
    {
        private readonly TcpClient _tcp;
        private readonly Stream _stream;
        private readonly List<byte> _pending = [];

        private RawClient(TcpClient tcp, Stream stream)
        {
            _tcp = tcp;
            _stream = stream;
        }

        /// <param name="tls">TLS without ALPN (HTTP/1.1); the test certificate is not verified</param>
        public static async Task<RawClient> ConnectAsync(Uri proxy, bool tls = false)
        {
            var tcp = new TcpClient();
            await tcp.ConnectAsync(IPAddress.Loopback, proxy.Port);
            if (!tls) return new RawClient(tcp, tcp.GetStream());
            var ssl = new SslStream(tcp.GetStream());
            await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = "sizes.test",
                RemoteCertificateValidationCallback = delegate { return true; },
            });
            return new RawClient(tcp, ssl);
        }

        public Task WriteAsync(byte[] bytes) => _stream.WriteAsync(bytes).AsTask();

        public async Task<RawResponse> ReadResponseAsync()
        {
            var headEnd = await FillUntilAsync(() => IndexOf("\r\n\r\n"u8, 0) is var i and >= 0 ? i + 4 : -1);
            var head = Encoding.ASCII.GetString([.. _pending.Take(headEnd)]);
            var lines = head.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
            var status = int.Parse(lines[0].Split(' ')[1], CultureInfo.InvariantCulture);
            var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var line in lines.Skip(1)) headers[line[..line.IndexOf(':')]] = line[(line.IndexOf(':') + 1)..].Trim();
            var body = new List<byte>();
            int end;
            if (headers.TryGetValue("transfer-encoding", out var te) && te.Contains("chunked", StringComparison.OrdinalIgnoreCase))
            {
                var at = headEnd;
                while (true)
                {
                    var lineEnd = await FillUntilAsync(() => IndexOf("\r\n"u8, at));
                    var size = Convert.ToInt32(Encoding.ASCII.GetString([.. _pending.Skip(at).Take(lineEnd - at)]).Split(';')[0], 16);
                    at = lineEnd + 2;
                    if (size == 0)
                    {
                        end = await FillUntilAsync(() => IndexOf("\r\n"u8, at) == at ? at + 2 : -1); // no trailers
                        break;
                    }
                    var chunkStart = at;
                    await FillUntilAsync(() => _pending.Count >= chunkStart + size + 2 ? 0 : -1);
                    body.AddRange(_pending.Skip(at).Take(size));
                    at += size + 2;
                }
            }
            else
            {
                var length = headers.TryGetValue("content-length", out var cl) ? int.Parse(cl, CultureInfo.InvariantCulture) : 0;
                end = await FillUntilAsync(() => _pending.Count >= headEnd + length ? headEnd + length : -1);
                body.AddRange(_pending.Skip(headEnd).Take(length));
            }
            _pending.RemoveRange(0, end);
            return new RawResponse(status, headers, Encoding.UTF8.GetString([.. body]), end);
        }

        private async Task<int> FillUntilAsync(Func<int> found)
        {
            var buffer = new byte[8192];
            while (true)
            {
                if (found() is var at and >= 0) return at;
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                var n = await _stream.ReadAsync(buffer, timeout.Token);
                if (n == 0) throw new IOException("connection closed: " + Encoding.ASCII.GetString([.. _pending]));
                _pending.AddRange(buffer.AsSpan(0, n));
            }
        }

        private int IndexOf(ReadOnlySpan<byte> needle, int from)
        {
            for (var i = from; i + needle.Length <= _pending.Count; i++)
            {
                var match = true;
                for (var j = 0; j < needle.Length && match; j++) match = _pending[i + j] == needle[j];
                if (match) return i;
            }
            return -1;
        }

        public void Dispose()
        {
            _stream.Dispose();
            _tcp.Dispose();
        }
    }

    private sealed record RawH2Response(int Status, string Body, long Length);

    /// <summary>
    /// A minimal HTTP/2 client writing frames byte by byte (prior knowledge, or TLS with ALPN h2) and counting each frame
    /// of a stream's response: HEADERS, CONTINUATION and DATA, 9 bytes of frame header each plus the payload. Its header
    /// blocks are HPACK literals without indexing or Huffman coding, so their lengths are known exactly.
    /// </summary>
    private sealed class RawH2Client : IDisposable
    {
        public const byte Data = 0x0, Headers = 0x1, RstStream = 0x3, Settings = 0x4, Continuation = 0x9;
        public const byte EndStream = 0x1, EndHeaders = 0x4, Padded = 0x8, Priority = 0x20, Ack = 0x1;
        private readonly TcpClient _tcp;
        private readonly Stream _stream;

        private RawH2Client(TcpClient tcp, Stream stream)
        {
            _tcp = tcp;
            _stream = stream;
        }

        public static async Task<RawH2Client> ConnectAsync(Uri address, bool tls)
        {
            var tcp = new TcpClient();
            await tcp.ConnectAsync(IPAddress.Loopback, address.Port);
            Stream stream = tcp.GetStream();
            if (tls)
            {
                var ssl = new SslStream(stream);
                await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
                {
                    TargetHost = "sizes.test",
                    ApplicationProtocols = [SslApplicationProtocol.Http2],
                    RemoteCertificateValidationCallback = delegate { return true; },
                });
                Assert.Equal(SslApplicationProtocol.Http2, ssl.NegotiatedApplicationProtocol);
                stream = ssl;
            }
            var client = new RawH2Client(tcp, stream);
            await stream.WriteAsync("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray());
            await client.WriteFrameAsync(Settings, 0, 0, []);
            return client;
        }

        /// <summary>A request's header block: the pseudo-headers, then <paramref name="headers"/>.</summary>
        public static byte[] HeaderBlock((string Method, string Path) request, params (string Name, string Value)[] headers) =>
            HeaderBlock(request, "http", headers);

        public static byte[] HeaderBlock((string Method, string Path) request, string scheme, params (string Name, string Value)[] headers)
        {
            var block = new List<byte>();
            (string, string)[] all = [(":method", request.Method), (":scheme", scheme), (":path", request.Path), (":authority", "sizes.test"), .. headers];
            foreach (var (name, value) in all)
            {
                block.Add(0x00); // literal without indexing, new name
                foreach (var text in new[] { name, value })
                {
                    Integer(block, text.Length);
                    block.AddRange(Encoding.ASCII.GetBytes(text));
                }
            }
            return [.. block];
        }

        private static void Integer(List<byte> block, int value) // 7-bit prefix, no Huffman
        {
            if (value < 127) { block.Add((byte)value); return; }
            block.Add(127);
            for (value -= 127; value >= 128; value >>= 7) block.Add((byte)(value % 128 + 128));
            block.Add((byte)value);
        }

        public async Task WriteFrameAsync(byte type, byte flags, int streamId, byte[] payload)
        {
            var frame = new byte[9 + payload.Length];
            frame[0] = (byte)(payload.Length >> 16);
            frame[1] = (byte)(payload.Length >> 8);
            frame[2] = (byte)payload.Length;
            frame[3] = type;
            frame[4] = flags;
            BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(5), streamId);
            payload.CopyTo(frame, 9);
            await _stream.WriteAsync(frame);
        }

        /// <summary>Reads frames until <paramref name="streamId"/> ends; its status is read from the HPACK static
        /// table's indexed :status (Kestrel's 200 is index 8).</summary>
        public async Task<RawH2Response> ReadResponseAsync(int streamId)
        {
            long length = 0;
            var status = 0;
            var body = new List<byte>();
            var header = new byte[9];
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            while (true)
            {
                await _stream.ReadExactlyAsync(header, timeout.Token);
                var size = (header[0] << 16) | (header[1] << 8) | header[2];
                var type = header[3];
                var flags = header[4];
                var id = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(5)) & 0x7fffffff;
                var payload = new byte[size];
                await _stream.ReadExactlyAsync(payload, timeout.Token);
                if (type == Settings && (flags & Ack) == 0) await WriteFrameAsync(Settings, Ack, 0, []);
                if (type == RstStream && id == streamId) throw new IOException($"stream {streamId} reset");
                if (id != streamId || type is not (Headers or Continuation or Data)) continue;
                length += 9 + size;
                if (type == Headers && status == 0) status = payload[0] == 0x88 ? 200 : -1;
                if (type == Data) body.AddRange(payload);
                if ((flags & EndStream) != 0) return new RawH2Response(status, Encoding.UTF8.GetString([.. body]), length);
            }
        }

        public void Dispose()
        {
            _stream.Dispose();
            _tcp.Dispose();
        }
    }
}
