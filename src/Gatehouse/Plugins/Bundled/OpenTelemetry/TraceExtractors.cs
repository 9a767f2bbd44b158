using System.Collections.Frozen;
using System.Globalization;
using System.Numerics;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Plugins.Bundled.OpenTelemetry;

/// <summary>
/// Kong's extractors (kong/observability/tracing/propagation/extractors/): each reads its format's headers, ignores
/// what is invalid with Kong's warning, and returns what it found (null: the format is absent or was ignored whole).
/// </summary>
internal sealed partial class TraceExtractors(ILogger logger)
{
    public ExtractedContext? Extract(string format, IHeaderDictionary headers) => format switch
    {
        "w3c" => W3c(headers),
        "b3" => B3(headers),
        "jaeger" => Jaeger(headers),
        "ot" => Ot(headers),
        "aws" => Aws(headers),
        "gcp" => Gcp(headers),
        "datadog" => Datadog(headers),
        "instana" => Instana(headers),
        _ => null,
    };

    /// <summary>Every header an extractor reads (baggage only matters beside one of them).</summary>
    private static readonly FrozenSet<string> ContextHeaders = new[]
    {
        "traceparent", "tracestate", "b3", "x-b3-traceid", "x-b3-spanid", "x-b3-parentspanid", "x-b3-sampled", "x-b3-flags",
        "uber-trace-id", "ot-tracer-sampled", "ot-tracer-traceid", "ot-tracer-spanid", "x-amzn-trace-id",
        "x-cloud-trace-context", "x-datadog-sampling-priority", "x-datadog-trace-id", "x-datadog-parent-id",
        "x-instana-t", "x-instana-s", "x-instana-l",
    }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>Whether the request has any header an extractor reads: one pass over the request's few headers instead
    /// of a lookup per format and header name, since most requests carry no trace context at all.</summary>
    public static bool AnyContextHeader(IHeaderDictionary headers)
    {
        foreach (var header in headers)
            if (ContextHeaders.Contains(header.Key)) return true;
        return false;
    }

    /// <summary>The header's value (repeated headers joined by commas, which no format accepts), null when absent.</summary>
    private static string? Get(IHeaderDictionary headers, string name) =>
        headers.TryGetValue(name, out var values) && values.Count > 0 ? values.ToString() : null;

    private void Ignore(string why) => LogInvalid(logger, why);

    /// <summary><c>traceparent: 00-&lt;32 hex&gt;-&lt;16 hex&gt;-&lt;2 hex&gt;</c>, version 00 only, ids not zero.</summary>
    private ExtractedContext? W3c(IHeaderDictionary headers)
    {
        var value = Get(headers, "traceparent");
        if (string.IsNullOrEmpty(value)) return null;
        if (!SplitHex(value, '-', out var version, out var trace, out var parent, out var flags))
        {
            Ignore("invalid W3C traceparent header; ignoring.");
            return null;
        }
        if (version != "00") { Ignore("invalid W3C Trace Context version; ignoring."); return null; }
        if (trace.Length != 32 || IsZero(trace)) { Ignore("invalid W3C trace context trace ID; ignoring."); return null; }
        if (parent.Length != 16 || IsZero(parent)) { Ignore("invalid W3C trace context parent ID; ignoring."); return null; }
        if (flags.Length != 2) { Ignore("invalid W3C trace context flags; ignoring."); return null; }
        return new ExtractedContext("w3c")
        {
            TraceId = TraceIds.TraceFromHex(trace), TraceIdSize = 16, SpanId = TraceIds.SpanFromHex(parent),
            Sampled = (Convert.ToInt32(flags, 16) & 1) == 1,
        };
    }

    private static readonly string[] B3Headers = ["b3", "x-b3-traceid", "x-b3-spanid", "x-b3-parentspanid", "x-b3-sampled", "x-b3-flags"];

    /// <summary>
    /// b3: the single header (<c>b3</c>, else a <c>tracestate</c> that is <c>b3=…</c>) first, the <c>X-B3-*</c> headers
    /// for what it lacks. Found as soon as any of them is present, even with no id (a lone sampling decision).
    /// </summary>
    private ExtractedContext? B3(IHeaderDictionary headers)
    {
        var single = Get(headers, "b3");
        if (single is null && Get(headers, "tracestate") is { } state && state.StartsWith("b3=", StringComparison.Ordinal) && state.Length > 3)
            single = state[3..];
        if (single is null && !AnyPresent(headers, B3Headers)) return null;

        string? trace = null, span = null, parent = null, flags = null;
        bool? sampled = null;
        var singleValid = false;
        if (single is not null)
        {
            switch (single)
            {
                case "1": sampled = true; singleValid = true; break;
                case "d": sampled = true; flags = "1"; singleValid = true; break;
                case "0": sampled = false; singleValid = true; break;
                default:
                    var m = B3Single().Match(single);
                    if (m.Success && m.Groups[1].Length is 16 or 32 && m.Groups[4].Length is 0 or 16)
                    {
                        (trace, span, singleValid) = (m.Groups[1].Value, m.Groups[2].Value, true);
                        parent = m.Groups[4].Length == 16 ? m.Groups[4].Value : null;
                        sampled = m.Groups[3].Value switch { "1" => true, "d" => true, "0" => false, _ => null };
                        if (m.Groups[3].Value == "d") flags = "1";
                    }
                    else Ignore("b3 single header invalid; ignoring.");
                    break;
            }
        }

        var multiSampled = Get(headers, "x-b3-sampled") switch
        {
            null => (bool?)null,
            "1" or "true" => true,
            "0" or "false" => false,
            _ => Invalid<bool?>("x-b3-sampled header invalid; ignoring.", null),
        };
        var debug = Get(headers, "x-b3-flags");
        if (debug == "1") multiSampled = true;
        else if (debug is not null) Ignore("x-b3-flags header invalid; ignoring.");
        var multiTrace = Get(headers, "x-b3-traceid");
        var multiSpan = Get(headers, "x-b3-spanid");
        var multiParent = Get(headers, "x-b3-parentspanid");
        var multiValid = true;
        if (multiTrace is not null && (multiTrace.Length is not (16 or 32) || !TraceIds.IsHex(multiTrace)))
            multiValid = Invalid("x-b3-traceid header invalid; ignoring.");
        if (multiSpan is not null && (multiSpan.Length != 16 || !TraceIds.IsHex(multiSpan)))
            multiValid = Invalid("x-b3-spanid header invalid; ignoring.");
        if (multiParent is not null && (multiParent.Length != 16 || !TraceIds.IsHex(multiParent)))
            multiValid = Invalid("x-b3-parentspanid header invalid; ignoring.");

        sampled ??= multiSampled;
        flags ??= debug;
        if (!singleValid) (trace, span, parent) = (null, null, null);
        if (multiValid) (trace, span, parent) = (trace ?? multiTrace, span ?? multiSpan, parent ?? multiParent);
        if (trace is null) (span, parent) = (null, null);
        return new ExtractedContext("b3")
        {
            TraceId = NonZero(trace), TraceIdSize = trace is null ? 0 : TraceIds.HexSize(trace.Length),
            SpanId = NonZeroSpan(span), ParentId = NonZeroSpan(parent), Sampled = sampled, Flags = flags, SingleHeader = single is not null,
        };
    }

    /// <summary><c>uber-trace-id: trace:span:parent:flags</c> (hex, trace ≤ 32 digits, span ≤ 16), <c>uberctx-*</c> baggage.</summary>
    private ExtractedContext? Jaeger(IHeaderDictionary headers)
    {
        var value = Get(headers, "uber-trace-id");
        if (string.IsNullOrEmpty(value)) return null;
        if (!SplitHex(value, ':', out var trace, out var span, out var parent, out var flags))
        {
            Ignore("invalid jaeger uber-trace-id header; ignoring.");
            return null;
        }
        if (trace.Length > 32 || IsZero(trace)) { Ignore("invalid jaeger trace ID; ignoring."); return null; }
        if (parent.Length != 16 && !IsZero(parent)) Ignore("invalid jaeger parent ID; ignoring."); // logged only
        if (span.Length > 16 || IsZero(span)) { Ignore("invalid jaeger span ID; ignoring."); return null; }
        if (flags.Length is not (1 or 2)) { Ignore("invalid jaeger flags; ignoring."); return null; }
        return new ExtractedContext("jaeger")
        {
            TraceId = TraceIds.TraceFromHex(trace), TraceIdSize = TraceIds.HexSize(trace.Length),
            SpanId = TraceIds.SpanFromHex(span), ParentId = NonZeroSpan(parent),
            Sampled = (Convert.ToInt32(flags, 16) & 1) == 1, Baggage = Baggage(headers, "uberctx-"),
        };
    }

    /// <summary>OpenTracing's <c>ot-tracer-traceid</c> (16 or 32 hex), <c>-spanid</c> (16), <c>-sampled</c>, <c>ot-baggage-*</c>.</summary>
    private ExtractedContext? Ot(IHeaderDictionary headers)
    {
        var sampledValue = Get(headers, "ot-tracer-sampled");
        var trace = Get(headers, "ot-tracer-traceid");
        var span = Get(headers, "ot-tracer-spanid");
        if (sampledValue is null && trace is null && span is null) return null;
        bool? sampled = sampledValue switch
        {
            null => null,
            "1" or "true" => true,
            "0" or "false" => false,
            _ => Invalid<bool?>("ot-tracer-sampled header invalid; ignoring.", null),
        };
        var valid = true;
        if (trace is not null && (trace.Length is not (16 or 32) || !TraceIds.IsHex(trace))) valid = Invalid("ot-tracer-traceid header invalid; ignoring.");
        if (span is not null && (span.Length != 16 || !TraceIds.IsHex(span))) valid = Invalid("ot-tracer-spanid header invalid; ignoring.");
        if (trace is null || !valid) (trace, span) = (null, null);
        var found = new ExtractedContext("ot")
        {
            TraceId = NonZero(trace), TraceIdSize = trace is null ? 0 : TraceIds.HexSize(trace.Length),
            SpanId = NonZeroSpan(span), Sampled = sampled, Baggage = Baggage(headers, "ot-baggage-"),
        };
        return found.IsEmpty ? null : found;
    }

    /// <summary>
    /// <c>X-Amzn-Trace-Id: Root=1-&lt;8 hex&gt;-&lt;24 hex&gt;;Parent=&lt;16 hex&gt;;Sampled=0|1</c>, other keys ignored; one
    /// invalid part ignores the whole header.
    /// </summary>
    private ExtractedContext? Aws(IHeaderDictionary headers)
    {
        var value = Get(headers, "x-amzn-trace-id");
        if (value is null) return null;
        UInt128? trace = null;
        ulong? parent = null;
        bool? sampled = null;
        foreach (var pair in value.Split(';'))
        {
            var parts = pair.Split('=');
            var key = parts[0].Trim(LuaSpace);
            var part = parts.Length > 1 ? parts[1].Trim(LuaSpace) : "";
            switch (key)
            {
                case "Root":
                    var root = part.Split('-');
                    if (part.Length != 35 || root.Length != 3 || root[0] != "1" || root[1].Length != 8 || root[2].Length != 24
                        || !TraceIds.IsHex(root[1]) || !TraceIds.IsHex(root[2]))
                        return Invalid<ExtractedContext?>("invalid aws header trace id; ignoring.", null);
                    trace = TraceIds.TraceFromHex(root[1] + root[2]);
                    break;
                case "Parent":
                    if (part.Length != 16 || !TraceIds.IsHex(part)) return Invalid<ExtractedContext?>("invalid aws header parent id; ignoring.", null);
                    parent = TraceIds.SpanFromHex(part);
                    break;
                case "Sampled":
                    if (part is not ("0" or "1")) return Invalid<ExtractedContext?>("invalid aws header sampled flag; ignoring.", null);
                    sampled = part == "1";
                    break;
            }
        }
        var found = new ExtractedContext("aws")
        {
            TraceId = trace == 0 ? null : trace, TraceIdSize = trace is null ? 0 : 16, SpanId = parent == 0 ? null : parent, Sampled = sampled,
        };
        return found.IsEmpty ? null : found;
    }

    /// <summary><c>X-Cloud-Trace-Context: &lt;32 lower-case hex&gt;/&lt;decimal span, 1-20 digits&gt;[;o=&lt;digit&gt;]</c>; sampled only with <c>o=1</c>.</summary>
    private ExtractedContext? Gcp(IHeaderDictionary headers)
    {
        var value = Get(headers, "x-cloud-trace-context");
        if (value is null) return null;
        var m = GcpContext().Match(value);
        if (!m.Success) return Invalid<ExtractedContext?>("invalid GCP header; ignoring.", null);
        var trace = TraceIds.TraceFromHex(m.Groups[1].ValueSpan);
        var span = (ulong)UInt128.Parse(m.Groups[2].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture); // the last 8 bytes
        return new ExtractedContext("gcp")
        {
            TraceId = trace == 0 ? null : trace, TraceIdSize = 16, SpanId = span == 0 ? null : span, Sampled = m.Groups[4].Value == "1",
        };
    }

    /// <summary>Datadog's decimal ids: <c>x-datadog-trace-id</c>, <c>x-datadog-parent-id</c>, and
    /// <c>x-datadog-sampling-priority</c> (1, 2: sampled; 0, -1: not; anything else ignores the whole context).</summary>
    private ExtractedContext? Datadog(IHeaderDictionary headers)
    {
        var priority = Get(headers, "x-datadog-sampling-priority");
        var traceValue = Get(headers, "x-datadog-trace-id");
        var parentValue = Get(headers, "x-datadog-parent-id");
        if (priority is null && traceValue is null && parentValue is null) return null;
        bool? sampled;
        switch (priority)
        {
            case null: sampled = null; break;
            case "1" or "2": sampled = true; break;
            case "0" or "-1": sampled = false; break;
            default: return Invalid<ExtractedContext?>("x-datadog-sampling-priority header invalid; ignoring.", null);
        }
        var trace = traceValue is null ? null : Decimal(traceValue, "x-datadog-trace-id header invalid; ignoring.");
        var parent = parentValue is null ? null : Decimal(parentValue, "x-datadog-parent-id header invalid; ignoring.");
        if (trace is null) parent = null;
        var found = new ExtractedContext("datadog")
        {
            TraceId = trace is { Value: var t } && t != 0 ? t : null, TraceIdSize = trace?.Size ?? 0,
            SpanId = parent is { Value: var p } && p != 0 ? (ulong)p : null, Sampled = sampled,
        };
        return found.IsEmpty ? null : found;
    }

    /// <summary>Instana: <c>x-instana-t</c> (hex, 16 or 32 digits expected: others are used with a warning),
    /// <c>x-instana-s</c> (hex), <c>x-instana-l</c> (sampled when it starts with 1). Kong 3.10's format.</summary>
    private ExtractedContext? Instana(IHeaderDictionary headers)
    {
        var traceValue = Get(headers, "x-instana-t");
        var spanValue = Get(headers, "x-instana-s");
        if (traceValue is null || spanValue is null) return null; // both are needed for Kong to read any
        var trace = LeadingHex(traceValue);
        if (trace.Length is not (16 or 32)) Ignore("x-instana-t header invalid; ignoring.");
        var span = LeadingHex(spanValue);
        if (span.Length == 0) Ignore("x-instana-s header invalid; ignoring.");
        var level = Get(headers, "x-instana-l");
        return new ExtractedContext("instana")
        {
            TraceId = trace.Length == 0 ? null : NonZero(trace), TraceIdSize = TraceIds.HexSize(trace.Length),
            SpanId = span.Length == 0 ? null : NonZeroSpan(span), Sampled = level is not null && level.StartsWith('1'),
        };
    }

    private static bool AnyPresent(IHeaderDictionary headers, string[] names)
    {
        foreach (var name in names) if (headers.ContainsKey(name)) return true;
        return false;
    }

    /// <summary>Kong's <c>%s</c>: space, tab, newline, vertical tab, form feed, carriage return.</summary>
    private static readonly char[] LuaSpace = [' ', '\t', '\n', '\v', '\f', '\r'];

    private (UInt128 Value, int Size)? Decimal(string value, string invalid)
    {
        var digits = value.AsSpan().Trim(LuaSpace);
        if (digits.Length == 0 || digits.ContainsAnyExceptInRange('0', '9')) return Invalid<(UInt128, int)?>(invalid, null);
        if (UInt128.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var small)) return (small, TraceIds.ByteSize(small));
        // beyond 128 bits: Kong keeps the last 16 bytes
        var big = BigInteger.Parse(digits, NumberStyles.None, CultureInfo.InvariantCulture);
        return ((UInt128)(big & ((BigInteger.One << 128) - 1)), big.GetByteCount(isUnsigned: true));
    }

    /// <summary>Every header named <paramref name="prefix"/>&lt;key&gt;, the value URI-decoded as ngx.unescape_uri
    /// (<c>+</c> is a space).</summary>
    private static List<KeyValuePair<string, string>>? Baggage(IHeaderDictionary headers, string prefix)
    {
        List<KeyValuePair<string, string>>? items = null;
        foreach (var (name, values) in headers)
        {
            if (name.Length <= prefix.Length || !name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)) continue;
            (items ??= []).Add(new(name[prefix.Length..].ToLowerInvariant(), Uri.UnescapeDataString(values.ToString().Replace('+', ' '))));
        }
        return items;
    }

    /// <summary>Exactly four non-empty hex parts separated by <paramref name="separator"/> (Kong's <c>^(%x+)sep(%x+)sep(%x+)sep(%x+)$</c>).</summary>
    private static bool SplitHex(string value, char separator, out string a, out string b, out string c, out string d)
    {
        var parts = value.Split(separator);
        (a, b, c, d) = parts.Length == 4 ? (parts[0], parts[1], parts[2], parts[3]) : ("", "", "", "");
        return parts.Length == 4 && parts.All(p => p.Length > 0 && TraceIds.IsHex(p));
    }

    private static string LeadingHex(string value)
    {
        var end = 0;
        while (end < value.Length && char.IsAsciiHexDigit(value[end])) end++;
        return value[..end];
    }

    private static bool IsZero(string hex) => hex.All(c => c == '0');
    private static UInt128? NonZero(string? hex) => hex is null || IsZero(hex) ? null : TraceIds.TraceFromHex(hex);
    private static ulong? NonZeroSpan(string? hex) => hex is null || IsZero(hex) ? null : TraceIds.SpanFromHex(hex);

    private bool Invalid(string why)
    {
        Ignore(why);
        return false;
    }

    private T Invalid<T>(string why, T value)
    {
        Ignore(why);
        return value;
    }

    [GeneratedRegex("^([0-9a-fA-F]+)-([0-9a-fA-F]{16})-?([01d]?)-?([0-9a-fA-F]*)\\z", RegexOptions.CultureInvariant)]
    private static partial Regex B3Single();

    [GeneratedRegex("^([0-9a-f]{32})/([0-9]{1,20})(;o=([0-9]))?\\z", RegexOptions.CultureInvariant)]
    private static partial Regex GcpContext();

    [LoggerMessage(Level = LogLevel.Warning, Message = "opentelemetry: {Reason}")]
    private static partial void LogInvalid(ILogger logger, string reason);
}
