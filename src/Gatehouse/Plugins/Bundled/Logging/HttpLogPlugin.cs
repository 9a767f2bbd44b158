using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Entities;

namespace Gatehouse.Plugins.Bundled.Logging;

/// <summary>Kong's http-log (priority 12): serialized requests sent to <c>http_endpoint</c> through a batching
/// queue — one JSON object per request when <c>queue.max_batch_size</c> is 1, else a JSON array.</summary>
public sealed class HttpLogPlugin : GatehousePlugin
{
    public override string Name => "http-log";
    public override int Priority => 12;
    public override IReadOnlyList<FieldDefinition> ConfigFields { get; } =
    [
        PluginFields.String("http_endpoint", required: true) with
        {
            Custom = v => Uri.TryCreate(v.GetValue<string>(), UriKind.Absolute, out var u) && u.Scheme is "http" or "https" ? null : "missing host in url",
        },
        PluginFields.String("method", "POST") with { OneOf = ["POST", "PUT", "PATCH"] },
        PluginFields.String("content_type", "application/json") with { OneOf = ["application/json", "application/json; charset=utf-8"] },
        PluginFields.Integer("timeout", 10000),
        PluginFields.Integer("keepalive", 60000),
        new FieldDefinition("headers", FieldType.Map) { Keys = new("header", FieldType.String), Values = new("value", FieldType.String) },
        new FieldDefinition("queue", FieldType.Record)
        {
            Required = true, Default = new JsonObject(),
            Fields =
            [
                PluginFields.Integer("max_batch_size", 1) with { Between = (1, 1_000_000) },
                PluginFields.Number("max_coalescing_delay", 1) with { Required = true },
                PluginFields.Integer("max_entries", 10000) with { Between = (1, 1_000_000) },
            ],
        },
    ];

    public override PluginHandler Create(JsonObject config, PluginBuildContext context)
    {
        var endpoint = new Uri(ConfigRead.String(config, "http_endpoint")!);
        var method = new HttpMethod(ConfigRead.String(config, "method") ?? "POST");
        var queue = ConfigRead.Record(config, "queue") ?? [];
        var maxBatch = (int)(ConfigRead.Long(queue, "max_batch_size") ?? 1);
        var delay = TimeSpan.FromSeconds(ConfigRead.Number(queue, "max_coalescing_delay") ?? 1);
        var timeout = TimeSpan.FromMilliseconds(ConfigRead.Long(config, "timeout") ?? 10000);
        var headers = (config["headers"] as JsonObject)?.Select(p => (p.Key, p.Value?.GetValue<string>() ?? "")).ToArray() ?? [];
        var http = context.Services.HttpClient;
        var sink = context.Services.LogSinks.For($"http:{context.Plugin.Id}:{endpoint}", maxBatch, delay,
            (int)(ConfigRead.Long(queue, "max_entries") ?? 10000), async (batch, ct) =>
            {
                var body = maxBatch == 1 && batch.Count == 1 ? batch[0] : "[" + string.Join(",", batch) + "]";
                using var request = new HttpRequestMessage(method, endpoint) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
                foreach (var (name, value) in headers) request.Headers.TryAddWithoutValidation(name, value);
                using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
                cts.CancelAfter(timeout);
                using var response = await http.SendAsync(request, cts.Token);
            });
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
}
