using System.Diagnostics;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Plugins.Bundled.OpenTelemetry;

/// <summary>A trace context read from the client's headers: which format carried it, the ids, the sampled flag
/// (null: the client did not decide) and w3c's tracestate.</summary>
internal sealed record ExtractedContext(string Format, ActivityTraceId TraceId, ActivitySpanId SpanId, bool? Sampled, string? TraceState);

/// <summary>
/// Kong's propagation (<c>config.propagation</c>): extract the first format found among <c>extract</c>, clear the
/// <c>clear</c> headers, inject every format of <c>inject</c> (<c>preserve</c>: the extracted format, else
/// <c>default_format</c>). Implemented formats: w3c, b3 (multi-header, and the single <c>b3</c> header when
/// extracting) and b3-single; the others of Kong's list are refused when the plugin is written.
/// </summary>
internal sealed class TracePropagation(IReadOnlyList<string> extract, IReadOnlyList<string> clear, IReadOnlyList<string> inject, string defaultFormat)
{
    public static IReadOnlyList<string> Implemented { get; } = ["w3c", "b3", "b3-single"];

    public ExtractedContext? Extract(IHeaderDictionary headers)
    {
        foreach (var format in extract)
        {
            var found = format switch
            {
                "w3c" => W3c(headers),
                "b3" => B3(headers),
                _ => null,
            };
            if (found is not null) return found;
        }
        return null;
    }

    public void Clear(IHeaderDictionary headers)
    {
        foreach (var name in clear) headers.Remove(name);
    }

    public void Inject(IHeaderDictionary headers, ActivityTraceId trace, ActivitySpanId parent, bool sampled, ExtractedContext? from)
    {
        foreach (var format in inject)
        {
            var actual = format == "preserve" ? from?.Format ?? defaultFormat : format;
            var traceHex = trace.ToHexString();
            var spanHex = parent.ToHexString();
            switch (actual)
            {
                case "w3c":
                    headers["traceparent"] = $"00-{traceHex}-{spanHex}-{(sampled ? "01" : "00")}";
                    if (from?.TraceState is { Length: > 0 } state) headers["tracestate"] = state;
                    break;
                case "b3":
                    headers["x-b3-traceid"] = traceHex;
                    headers["x-b3-spanid"] = spanHex;
                    headers["x-b3-sampled"] = sampled ? "1" : "0";
                    break;
                case "b3-single":
                    headers["b3"] = $"{traceHex}-{spanHex}-{(sampled ? "1" : "0")}";
                    break;
            }
        }
    }

    /// <summary><c>traceparent: 00-&lt;32 hex&gt;-&lt;16 hex&gt;-&lt;2 hex flags&gt;</c>; an invalid header is ignored.</summary>
    private static ExtractedContext? W3c(IHeaderDictionary headers)
    {
        var value = headers["traceparent"].ToString();
        var parts = value.Split('-');
        if (parts.Length < 4 || parts[0].Length != 2 || parts[0] == "ff" || !IsHex(parts[1], 32) || !IsHex(parts[2], 16) || !IsHex(parts[3], 2)) return null;
        if (IsZero(parts[1]) || IsZero(parts[2])) return null;
        var flags = Convert.ToInt32(parts[3], 16);
        var state = headers["tracestate"].ToString();
        return new ExtractedContext("w3c", ActivityTraceId.CreateFromString(parts[1].ToLowerInvariant()),
            ActivitySpanId.CreateFromString(parts[2].ToLowerInvariant()), (flags & 1) == 1, state.Length > 0 ? state : null);
    }

    /// <summary>B3's multiple headers, or its single <c>b3</c> header (<c>trace-span[-sampled[-parent]]</c>).</summary>
    private static ExtractedContext? B3(IHeaderDictionary headers)
    {
        string? trace, span, sampled;
        var single = headers["b3"].ToString();
        if (single.Length > 0)
        {
            var parts = single.Split('-');
            if (parts.Length == 1) return null; // a lone sampling decision carries no context
            (trace, span, sampled) = (parts[0], parts[1], parts.Length > 2 ? parts[2] : null);
        }
        else
        {
            trace = headers["x-b3-traceid"].ToString();
            span = headers["x-b3-spanid"].ToString();
            sampled = headers["x-b3-sampled"].ToString() is { Length: > 0 } s ? s : headers["x-b3-flags"].ToString() == "1" ? "1" : null;
            if (trace.Length == 0 || span.Length == 0) return null;
        }
        if (!(IsHex(trace, 32) || IsHex(trace, 16)) || !IsHex(span, 16) || IsZero(trace) || IsZero(span)) return null;
        bool? decision = sampled switch { "1" or "d" or "true" => true, "0" or "false" => false, _ => null };
        return new ExtractedContext("b3", ActivityTraceId.CreateFromString(trace.PadLeft(32, '0').ToLowerInvariant()),
            ActivitySpanId.CreateFromString(span.ToLowerInvariant()), decision, null);
    }

    private static bool IsHex(string s, int length) => s.Length == length && s.All(Uri.IsHexDigit);
    private static bool IsZero(string s) => s.All(c => c == '0');
}
