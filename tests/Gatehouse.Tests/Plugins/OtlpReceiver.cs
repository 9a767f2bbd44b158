using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Tests.Plugins;

/// <summary>A span as the collector received it (ids in lower hex, empty parent for a root).</summary>
internal sealed record ReceivedSpan(string TraceId, string SpanId, string ParentSpanId, string Name, int Kind,
    IReadOnlyDictionary<string, object> Attributes, int StatusCode, string StatusMessage, ulong StartNanos = 0, ulong EndNanos = 0);

/// <summary>
/// A real OTLP/HTTP collector: Kestrel on 127.0.0.1:0 taking <c>POST /v1/traces</c> with an
/// <c>application/x-protobuf</c> ExportTraceServiceRequest, decoded field by field from the opentelemetry-proto
/// definitions (no package here serves the generated OpenTelemetry.Proto types).
/// </summary>
internal sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ReceivedSpan> _spans = new();
    private readonly ConcurrentQueue<IReadOnlyDictionary<string, object>> _resources = new();

    private OtlpReceiver(WebApplication app) => _app = app;

    public string TracesUrl => _app.Urls.First() + "/v1/traces";
    public IReadOnlyList<ReceivedSpan> Spans => [.. _spans];
    public IReadOnlyList<IReadOnlyDictionary<string, object>> Resources => [.. _resources];
    public ConcurrentQueue<string> ContentTypes { get; } = new();
    public ConcurrentQueue<string> Authorization { get; } = new();
    /// <summary>Export requests that arrived (answered or not).</summary>
    public int Exports => Volatile.Read(ref _exports);
    private int _exports;

    /// <param name="answerDelay">how long each export waits before it is read and answered (a slow collector); an
    /// export the client cancels meanwhile is not recorded</param>
    public static async Task<OtlpReceiver> StartAsync(TimeSpan? answerDelay = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new OtlpReceiver(app);
        app.MapPost("/v1/traces", async (HttpContext http) =>
        {
            Interlocked.Increment(ref receiver._exports);
            if (answerDelay is { } delay) await Task.Delay(delay, http.RequestAborted);
            using var body = new MemoryStream();
            await http.Request.Body.CopyToAsync(body);
            receiver.ContentTypes.Enqueue(http.Request.ContentType ?? "");
            receiver.Authorization.Enqueue(http.Request.Headers.Authorization.ToString());
            receiver.Decode(body.ToArray());
            http.Response.ContentType = "application/x-protobuf";
        });
        await app.StartAsync();
        return receiver;
    }

    private void Decode(byte[] request)
    {
        foreach (var (field, resourceSpans) in Fields(request))
        {
            if (field != 1) continue; // ExportTraceServiceRequest.resource_spans
            foreach (var (f, value) in Fields((byte[])resourceSpans))
            {
                if (f == 1) _resources.Enqueue(Attributes((byte[])value, attributeField: 1)); // Resource.attributes
                if (f != 2) continue; // ResourceSpans.scope_spans
                foreach (var (sf, span) in Fields((byte[])value))
                    if (sf == 2) _spans.Enqueue(Span((byte[])span)); // ScopeSpans.spans
            }
        }
    }

    private static ReceivedSpan Span(byte[] data)
    {
        string trace = "", span = "", parent = "", name = "", statusMessage = "";
        int kind = 0, statusCode = 0;
        ulong start = 0, end = 0;
        foreach (var (field, value) in Fields(data))
        {
            switch (field)
            {
                case 1: trace = Convert.ToHexStringLower((byte[])value); break;
                case 2: span = Convert.ToHexStringLower((byte[])value); break;
                case 4: parent = Convert.ToHexStringLower((byte[])value); break;
                case 5: name = Encoding.UTF8.GetString((byte[])value); break;
                case 6: kind = (int)(ulong)value; break;
                case 7: start = (ulong)value; break; // start_time_unix_nano (fixed64)
                case 8: end = (ulong)value; break;
                case 15:
                    foreach (var (sf, sv) in Fields((byte[])value))
                    {
                        if (sf == 2) statusMessage = Encoding.UTF8.GetString((byte[])sv);
                        if (sf == 3) statusCode = (int)(ulong)sv;
                    }
                    break;
            }
        }
        return new ReceivedSpan(trace, span, parent, name, kind, Attributes(data, attributeField: 9), statusCode, statusMessage, start, end);
    }

    /// <summary>The KeyValue list in <paramref name="attributeField"/>: AnyValue string (1), bool (2), int (3), double (4).</summary>
    private static Dictionary<string, object> Attributes(byte[] data, int attributeField)
    {
        var found = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (var (field, kv) in Fields(data))
        {
            if (field != attributeField) continue;
            string key = "";
            object value = "";
            foreach (var (f, v) in Fields((byte[])kv))
            {
                if (f == 1) key = Encoding.UTF8.GetString((byte[])v);
                if (f != 2) continue;
                foreach (var (af, av) in Fields((byte[])v))
                    value = af switch
                    {
                        1 => Encoding.UTF8.GetString((byte[])av),
                        2 => (ulong)av != 0,
                        3 => (long)(ulong)av,
                        4 => BitConverter.Int64BitsToDouble((long)(ulong)av),
                        _ => value,
                    };
            }
            found[key] = value;
        }
        return found;
    }

    /// <summary>The fields of one protobuf message: varint and fixed values as ulong, length-delimited as bytes.</summary>
    private static IEnumerable<(int Field, object Value)> Fields(byte[] data)
    {
        var at = 0;
        while (at < data.Length)
        {
            var tag = Varint(data, ref at);
            var field = (int)(tag >> 3);
            switch (tag & 7)
            {
                case 0: yield return (field, Varint(data, ref at)); break;
                case 1: yield return (field, BitConverter.ToUInt64(data, at)); at += 8; break;
                case 2:
                    var length = (int)Varint(data, ref at);
                    yield return (field, data[at..(at + length)]);
                    at += length;
                    break;
                case 5: yield return (field, (ulong)BitConverter.ToUInt32(data, at)); at += 4; break;
                default: throw new InvalidDataException($"wire type {tag & 7}");
            }
        }
    }

    private static ulong Varint(byte[] data, ref int at)
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = data[at++];
            value |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80) return value;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
