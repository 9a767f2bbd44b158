using System.Buffers;
using System.Diagnostics;
using System.Text.Json;

namespace Gatehouse.Proxy.Pipeline;

/// <summary>
/// The timing tree of one debugged request (Kong's request debugging, <c>kong/timing/context.lua</c>): nested named
/// spans, each with a <c>total_time</c> in ms summed over every time it was entered, under <c>child</c>. Exists only
/// for a request that asked for it (<see cref="RequestDebug"/>); every other request carries null and pays nothing.
/// </summary>
public sealed class RequestDebugTrace
{
    private sealed class Span
    {
        public double TotalMs;
        public long StartedAt;
        public bool Dangling;
        public List<(string Name, Span Span)>? Children;

        public Span Child(string name)
        {
            Children ??= [];
            foreach (var (n, s) in Children) if (n == name) return s;
            var span = new Span();
            Children.Add((name, span));
            return span;
        }
    }

    private readonly Span _root = new();
    private readonly Stack<Span> _open = new();
    private Span _current;

    internal RequestDebugTrace(string requestId, bool log, bool loopback)
    {
        RequestId = requestId;
        Log = log;
        Loopback = loopback;
        _current = _root;
    }

    public string RequestId { get; }
    /// <summary>X-Kong-Request-Debug-Log: true — the output also goes to the log after the log phase.</summary>
    public bool Log { get; internal set; }
    /// <summary>The client is on a loopback address: the header output is never truncated.</summary>
    public bool Loopback { get; }
    /// <summary>Upstream time to first byte and streaming, in ms (Kong's <c>upstream</c> span, measured, not entered).</summary>
    private (long FirstByteMs, long? StreamingMs)? _upstream;

    // a duplex stream (gRPC, HTTP/2) may read the request body while the response phases run: the lock keeps the
    // tree whole (only debugged requests take it)
    public void Enter(string name)
    {
        lock (_open)
        {
            _open.Push(_current);
            _current = _current.Child(name);
            _current.StartedAt = Stopwatch.GetTimestamp();
        }
    }

    public void Leave()
    {
        lock (_open)
        {
            if (_open.Count == 0) return;
            _current.TotalMs += Stopwatch.GetElapsedTime(_current.StartedAt).TotalMilliseconds;
            _current = _open.Pop();
        }
    }

    /// <summary>Opens the spans of one handler in <paramref name="phase"/>: <c>plugins.&lt;name&gt;.&lt;id&gt;</c> for a plugin (when an instance applies),
    /// <c>filters.&lt;name&gt;.&lt;callback&gt;</c> for a Proxy-Wasm filter; nothing for core steps. Returns how many
    /// were opened, for <see cref="LeaveHandler"/>.</summary>
    internal int EnterHandler(IPhaseHandler handler, string phase, ProxyContext context)
    {
        switch (handler.Kind)
        {
            case "plugin":
                // Kong lists only the plugins that apply, each by instance id
                if (handler.DebugInstance(context) is not { } id) return 0;
                Enter("plugins");
                Enter(handler.Name);
                Enter(id);
                return 3;
            case "filter":
                Enter("filters");
                Enter(handler.Name);
                Enter(FilterCallback(phase));
                return 3;
            default:
                return 0;
        }
    }

    internal void LeaveHandler(int opened)
    {
        for (var i = 0; i < opened; i++) Leave();
    }

    private static string FilterCallback(string phase) => phase switch
    {
        "access" => "on_request_headers",
        "request_body" => "on_request_body",
        "header_filter" => "on_response_headers",
        "body_filter" => "on_response_body",
        "log" => "on_log",
        _ => phase,
    };

    internal void SetUpstream(long firstByteMs, long? streamingMs) => _upstream = (firstByteMs, streamingMs);

    /// <summary>Kong's output JSON: <c>child</c> (the spans), <c>request_id</c>, <c>total_time_without_upstream</c>.
    /// Spans still open (a phase cut short by an exception) are closed and marked <c>dangling</c>, as Kong does.</summary>
    public string ToJson()
    {
        lock (_open) return WriteJson();
    }

    private string WriteJson()
    {
        var dangling = false;
        while (_open.Count > 0)
        {
            _current.Dangling = true;
            Leave();
            dangling = true;
        }
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("request_id", RequestId);
            if (dangling) json.WriteBoolean("dangling", true);
            if (_root.Children is not null || _upstream is not null)
            {
                json.WritePropertyName("child");
                json.WriteStartObject();
                foreach (var (name, span) in _root.Children ?? []) WriteSpan(json, name, span);
                if (_upstream is { } upstream) WriteUpstream(json, upstream.FirstByteMs, upstream.StreamingMs);
                json.WriteEndObject();
                var withoutUpstream = 0.0;
                foreach (var (_, span) in _root.Children ?? []) withoutUpstream += Round(span.TotalMs);
                json.WriteNumber("total_time_without_upstream", Math.Round(withoutUpstream, 2));
            }
            json.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void WriteSpan(Utf8JsonWriter json, string name, Span span)
    {
        json.WritePropertyName(name);
        json.WriteStartObject();
        json.WriteNumber("total_time", Round(span.TotalMs));
        if (span.Dangling) json.WriteBoolean("dangling", true);
        if (span.Children is not null)
        {
            json.WritePropertyName("child");
            json.WriteStartObject();
            foreach (var (n, s) in span.Children) WriteSpan(json, n, s);
            json.WriteEndObject();
        }
        json.WriteEndObject();
    }

    private static void WriteUpstream(Utf8JsonWriter json, long firstByteMs, long? streamingMs)
    {
        json.WritePropertyName("upstream");
        json.WriteStartObject();
        json.WriteNumber("total_time", firstByteMs + (streamingMs ?? 0));
        json.WritePropertyName("child");
        json.WriteStartObject();
        json.WritePropertyName("time_to_first_byte");
        json.WriteStartObject();
        json.WriteNumber("total_time", firstByteMs);
        json.WriteEndObject();
        if (streamingMs is { } streaming)
        {
            json.WritePropertyName("streaming");
            json.WriteStartObject();
            json.WriteNumber("total_time", streaming);
            json.WriteEndObject();
        }
        json.WriteEndObject();
        json.WriteEndObject();
    }

    /// <summary>Kong floors to 2 decimal places.</summary>
    private static double Round(double ms) => Math.Floor(ms * 100) / 100;
}
