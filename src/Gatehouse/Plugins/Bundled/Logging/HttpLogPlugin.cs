using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Entities;

namespace Gatehouse.Plugins.Bundled.Logging;

/// <summary>Kong's http-log (priority 12): serialized requests sent to <c>http_endpoint</c> through a batching
/// queue — one JSON object per request when <c>queue.max_batch_size</c> is 1, else a JSON array — with the configured
/// <c>content_type</c>, <c>timeout</c> and <c>keepalive</c> (idle time of a reused connection). A log server answering
/// 300 or more is a failed batch, logged with its status and body as Kong's.</summary>
public sealed class HttpLogPlugin : GatehousePlugin
{
    public override string Name => "http-log";
    public override int Priority => 12;
    public override IReadOnlyList<FieldDefinition> ConfigFields { get; } =
    [
        PluginFields.String("http_endpoint", required: true) with
        {
            Referenceable = true,
            Custom = v => Uri.TryCreate(v.GetValue<string>(), UriKind.Absolute, out var u) && u.Scheme is "http" or "https" ? null : "missing host in url",
        },
        PluginFields.String("method", "POST") with { OneOf = ["POST", "PUT", "PATCH"] },
        PluginFields.String("content_type", "application/json") with { OneOf = ["application/json", "application/json; charset=utf-8"] },
        PluginFields.Integer("timeout", 10000),
        PluginFields.Integer("keepalive", 60000),
        new FieldDefinition("headers", FieldType.Map) { Keys = new("header", FieldType.String), Values = new("value", FieldType.String) { Referenceable = true } },
        new FieldDefinition("queue", FieldType.Record)
        {
            Required = true, Default = new JsonObject(),
            Fields =
            [
                PluginFields.Integer("max_batch_size", 1) with { Between = (1, 1_000_000) },
                PluginFields.Number("max_coalescing_delay", 1) with { Required = true, Between = (0, 3600) },
                PluginFields.Integer("max_entries", 10000) with { Between = (1, 1_000_000) },
                PluginFields.Number("max_retry_time", 60) with { Required = true },
                PluginFields.Number("initial_retry_delay", 0.01) with { Required = true, Custom = PluginFields.Between(0.001, 1_000_000) },
                PluginFields.Number("max_retry_delay", 60) with { Required = true, Custom = PluginFields.Between(0.001, 1_000_000) },
            ],
        },
    ];


    public override PluginHandler Create(JsonObject config, PluginBuildContext context)
    {
        var queue = ConfigRead.Record(config, "queue") ?? [];
        var maxBatch = (int)(ConfigRead.Long(queue, "max_batch_size") ?? 1);
        var delay = TimeSpan.FromSeconds(ConfigRead.Number(queue, "max_coalescing_delay") ?? 1);
        // A queue's writer is fixed when the queue is made, so the key holds every setting it uses (Kong's queue name
        // holds the endpoint, method, content type, timeout and keepalive).
        var endpoint = new Uri(ConfigRead.String(config, "http_endpoint")!);
        // The key names the instance and endpoint (without credentials: it appears in log messages) and a digest of
        // the whole config.
        var digest = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(config.ToJsonString())))[..12];
        var key = $"http-log {context.Plugin.Id} {endpoint.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped)} #{digest}";
        var sink = context.Services.LogSinks.For(key, maxBatch, delay,
            (int)(ConfigRead.Long(queue, "max_entries") ?? 10000), () => new HttpLogWriter(config, maxBatch),
            new LogRetry(
                TimeSpan.FromSeconds(ConfigRead.Number(queue, "max_retry_time") ?? 60),
                TimeSpan.FromSeconds(ConfigRead.Number(queue, "initial_retry_delay") ?? 0.01),
                TimeSpan.FromSeconds(ConfigRead.Number(queue, "max_retry_delay") ?? 60)));
        return new Handler(sink);
    }

    private sealed class Handler(LogSinks.Sink sink) : PluginHandler
    {
        public override ValueTask LogAsync(Kong kong)
        {
            sink.Enqueue(LogSerializer.Serialize(kong).ToJsonString());
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>Sends batches to one endpoint over its own connection pool, whose idle connections live
    /// <c>keepalive</c> ms (0: no limit, as nginx's keepalive timeout 0).</summary>
    private sealed class HttpLogWriter : ILogWriter
    {
        private static readonly HashSet<string> Reserved = new(["Content-Type", "Content-Length"], StringComparer.OrdinalIgnoreCase);
        private readonly Uri _endpoint;
        private readonly HttpMethod _method;
        private readonly string _contentType;
        private readonly TimeSpan _timeout;
        private readonly int _maxBatch;
        private readonly string? _authorization;
        private readonly (string Name, string Value)[] _headers;
        private readonly TimeSpan _keepalive;
        private HttpClient _http;
        private long _idleSince;

        public HttpLogWriter(JsonObject config, int maxBatch)
        {
            _endpoint = new Uri(ConfigRead.String(config, "http_endpoint")!);
            _method = new HttpMethod(ConfigRead.String(config, "method") ?? "POST");
            _contentType = ConfigRead.String(config, "content_type") ?? "application/json";
            _timeout = TimeSpan.FromMilliseconds(ConfigRead.Long(config, "timeout") ?? 10000);
            _maxBatch = maxBatch;
            // Kong: credentials in the URL become Basic authorization (and win over a configured header).
            _authorization = _endpoint.UserInfo.Length > 0
                ? "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(Uri.UnescapeDataString(_endpoint.UserInfo)))
                : null;
            _headers = (config["headers"] as JsonObject)?
                .Where(p => !Reserved.Contains(p.Key) && !(_authorization is not null && p.Key.Equals("Authorization", StringComparison.OrdinalIgnoreCase)))
                .Select(p => (p.Key, p.Value?.GetValue<string>() ?? "")).ToArray() ?? [];
            var keepalive = ConfigRead.Long(config, "keepalive") ?? 60000;
            _keepalive = keepalive > 0 ? TimeSpan.FromMilliseconds(keepalive) : Timeout.InfiniteTimeSpan;
            _http = NewClient();
        }

        /// <summary>The pool's own idle timeout closes a forgotten connection eventually; the check in
        /// <see cref="WriteAsync"/> makes the limit exact (the pool's scavenger runs only now and then).</summary>
        private HttpClient NewClient() =>
            new(new SocketsHttpHandler { UseProxy = false, PooledConnectionIdleTimeout = _keepalive }) { Timeout = Timeout.InfiniteTimeSpan };

        public async Task WriteAsync(IReadOnlyList<string> batch, CancellationToken cancel)
        {
            // Batches are sent one at a time, so the pool holds one connection, idle since the last batch ended.
            if (_idleSince != 0 && _keepalive != Timeout.InfiniteTimeSpan && Stopwatch.GetElapsedTime(_idleSince) > _keepalive)
            {
                _http.Dispose();
                _http = NewClient();
            }
            try
            {
                await SendAsync(batch, cancel);
            }
            finally
            {
                _idleSince = Stopwatch.GetTimestamp();
            }
        }

        private async Task SendAsync(IReadOnlyList<string> batch, CancellationToken cancel)
        {
            var body = _maxBatch == 1 && batch.Count == 1 ? batch[0] : "[" + string.Join(",", batch) + "]";
            using var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
            content.Headers.ContentType = MediaTypeHeaderValue.Parse(_contentType); // exactly as configured
            using var request = new HttpRequestMessage(_method, _endpoint) { Content = content };
            if (_authorization is not null) request.Headers.TryAddWithoutValidation("Authorization", _authorization);
            foreach (var (name, value) in _headers) request.Headers.TryAddWithoutValidation(name, value);
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            cts.CancelAfter(_timeout);
            var where = string.Create(CultureInfo.InvariantCulture, $"{_endpoint.Host}:{_endpoint.Port}");
            HttpResponseMessage response;
            try
            {
                response = await _http.SendAsync(request, cts.Token);
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
            {
                throw new LogWriteException($"failed request to {where}: {e.Message}", e);
            }
            using (response)
            {
                var answer = await response.Content.ReadAsStringAsync(cts.Token); // read even on success, as Kong
                if ((int)response.StatusCode >= 300)
                    throw new LogWriteException(string.Create(CultureInfo.InvariantCulture,
                        $"request to {where} returned status code {(int)response.StatusCode} and body {answer}"));
            }
        }

        public ValueTask DisposeAsync()
        {
            _http.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
