using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Plugins.Bundled.OpenTelemetry;

/// <summary>
/// Kong's injectors (kong/observability/tracing/propagation/injectors/): each sets its format's headers (replacing
/// what the client sent). The trace id is written at 16 bytes, or at 8 (its last 8) where the format allows both and
/// the client's id was 8 bytes; ot and datadog default to 8. Span ids are 8 bytes; hex is lower-case.
/// </summary>
internal static class TraceInjectors
{
    public static void Inject(string format, IHeaderDictionary headers, in InjectContext context)
    {
        var sampled = context.Sampled;
        var from = context.From;
        if (format == "w3c")
        {
            headers["traceparent"] = TraceIds.TraceParent(context.TraceId, context.SpanId, sampled);
            return;
        }
        var span = TraceIds.Hex(context.SpanId);
        var parent = context.ParentId is { } parentId ? TraceIds.Hex(parentId) : null;
        switch (format)
        {
            case "b3":
                headers["x-b3-traceid"] = Trace(context, 16, 8);
                headers["x-b3-spanid"] = span;
                if (parent is not null) headers["x-b3-parentspanid"] = parent;
                if (from?.Flags is { } flags) headers["x-b3-flags"] = flags;
                else headers["x-b3-sampled"] = sampled ? "1" : "0";
                break;
            case "b3-single":
                var decision = from?.Flags == "1" ? "d" : sampled ? "1" : "0";
                headers["b3"] = parent is null ? $"{Trace(context, 16, 8)}-{span}-{decision}" : $"{Trace(context, 16, 8)}-{span}-{decision}-{parent}";
                break;
            case "jaeger":
                headers["uber-trace-id"] = $"{Trace(context, 16, 8)}:{span}:{parent ?? "0"}:{(sampled ? "01" : "00")}";
                Baggage(headers, "uberctx-", from);
                break;
            case "ot":
                headers["ot-tracer-traceid"] = Trace(context, 8, 16);
                headers["ot-tracer-spanid"] = span;
                headers["ot-tracer-sampled"] = sampled ? "1" : "0";
                Baggage(headers, "ot-baggage-", from);
                break;
            case "aws":
                var trace = Trace(context, 16);
                headers["x-amzn-trace-id"] = $"Root=1-{trace[..8]}-{trace[8..]};Parent={span};Sampled={(sampled ? "1" : "0")}";
                break;
            case "gcp":
                headers["x-cloud-trace-context"] = $"{Trace(context, 16)}/{context.SpanId.ToString(CultureInfo.InvariantCulture)};o={(sampled ? "1" : "0")}";
                break;
            case "datadog":
                headers["x-datadog-trace-id"] = ((ulong)context.TraceId).ToString(CultureInfo.InvariantCulture);
                headers["x-datadog-parent-id"] = context.SpanId.ToString(CultureInfo.InvariantCulture);
                headers["x-datadog-sampling-priority"] = sampled ? "1" : "0";
                break;
            case "instana":
                headers["x-instana-t"] = Trace(context, 16, 8);
                headers["x-instana-s"] = span;
                headers["x-instana-l"] = sampled ? "1" : "0";
                break;
        }
    }

    /// <summary>The trace id in hex at the client's size when the format allows it, else at the format's first size.</summary>
    private static string Trace(in InjectContext context, int size, int other = 0)
    {
        var chosen = context.From?.TraceIdSize is var original && original == other && other != 0 ? other : size;
        return chosen == 8 ? TraceIds.Hex((ulong)context.TraceId) : TraceIds.Hex(context.TraceId);
    }

    /// <summary>The extracted baggage, whichever format carried it, each value URI-encoded (ngx.escape_uri).</summary>
    private static void Baggage(IHeaderDictionary headers, string prefix, ExtractedContext? from)
    {
        if (from?.Baggage is not { } items) return;
        foreach (var (key, value) in items) headers[prefix + key] = Uri.EscapeDataString(value);
    }
}
