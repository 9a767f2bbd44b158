using System.Diagnostics;
using Gatehouse.Plugins.Bundled.OpenTelemetry;
using Gatehouse.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Tests.Plugins;

/// <summary>
/// Kong's propagation formats one by one (TracePropagation, its extractors and injectors): what each reads from a
/// client's headers, what it ignores (with Kong's warning), and the exact headers it writes; and Kong's trace-id
/// sampler.
/// </summary>
public sealed class TracePropagationTests
{
    private const string Trace = "4e2d8c1f0a9b7e6d5c4b3a2918070605";
    private const string Trace8 = "5c4b3a2918070605"; // the last 8 bytes of Trace
    private const string Span = "a1b2c3d4e5f60718";
    private const string Span2 = "0f1e2d3c4b5a6978";
    private const string SpanDecimal = "11651590505119483672";
    private const string Trace8Decimal = "6650473222913852933";

    private readonly LogCapture _log = new();

    private TracePropagation Propagation(string[]? extract = null, string[]? inject = null, string defaultFormat = "w3c", string[]? clear = null) =>
        new(extract ?? [.. TracePropagation.HeaderTypeExtract], clear ?? [], inject ?? ["preserve"], defaultFormat, _log.CreateLogger("otel"));

    private ExtractedContext? Extract(string format, params (string Name, string Value)[] headers) =>
        Propagation([format]).Extract(Headers(headers));

    private static HeaderDictionary Headers(params (string Name, string Value)[] headers)
    {
        var dictionary = new HeaderDictionary();
        foreach (var (name, value) in headers) dictionary.Append(name, value);
        return dictionary;
    }

    private static UInt128 Hex128(string hex) => UInt128.Parse(hex, System.Globalization.NumberStyles.AllowHexSpecifier);
    private static ulong Hex64(string hex) => ulong.Parse(hex, System.Globalization.NumberStyles.AllowHexSpecifier);

    private void AssertIgnored(ExtractedContext? found, string warning)
    {
        Assert.Null(found);
        AssertWarned(warning);
    }

    private void AssertWarned(string warning) =>
        Assert.Contains(_log.Entries, e => e.Level == LogLevel.Warning && e.Message == "opentelemetry: " + warning);

    // --- w3c

    [Theory]
    [InlineData("01", true)]
    [InlineData("00", false)]
    [InlineData("09", true)] // only the sampled bit counts
    [InlineData("ef", true)]
    [InlineData("08", false)]
    public void W3c_reads_traceparent(string flags, bool sampled)
    {
        var found = Extract("w3c", ("traceparent", $"00-{Trace}-{Span}-{flags}"))!;
        Assert.Equal("w3c", found.Format);
        Assert.Equal(Hex128(Trace), found.TraceId);
        Assert.Equal(16, found.TraceIdSize);
        Assert.Equal(Hex64(Span), found.SpanId);
        Assert.Equal(sampled, found.Sampled);
    }

    [Theory]
    [InlineData("vv-" + Trace + "-" + Span + "-01", "invalid W3C traceparent header; ignoring.")]
    [InlineData("00-" + Trace + "-" + Span + "-01-extra", "invalid W3C traceparent header; ignoring.")]
    [InlineData("00-" + Trace + "-" + Span + "-zz", "invalid W3C traceparent header; ignoring.")]
    [InlineData("01-" + Trace + "-" + Span + "-01", "invalid W3C Trace Context version; ignoring.")]
    [InlineData("00-123-" + Span + "-01", "invalid W3C trace context trace ID; ignoring.")]
    [InlineData("00-00000000000000000000000000000000-" + Span + "-01", "invalid W3C trace context trace ID; ignoring.")]
    [InlineData("00-" + Trace + "-123-01", "invalid W3C trace context parent ID; ignoring.")]
    [InlineData("00-" + Trace + "-0000000000000000-01", "invalid W3C trace context parent ID; ignoring.")]
    [InlineData("00-" + Trace + "-" + Span + "-001", "invalid W3C trace context flags; ignoring.")]
    public void W3c_ignores_an_invalid_traceparent_with_Kongs_warning(string traceparent, string warning) =>
        AssertIgnored(Extract("w3c", ("traceparent", traceparent)), warning);

    // --- b3

    [Fact]
    public void B3_reads_the_multiple_headers()
    {
        var found = Extract("b3", ("X-B3-TraceId", Trace), ("X-B3-SpanId", Span), ("X-B3-ParentSpanId", Span2), ("X-B3-Sampled", "1"))!;
        Assert.Equal(("b3", Hex128(Trace), 16, Hex64(Span), Hex64(Span2), true, false),
            (found.Format, found.TraceId, found.TraceIdSize, found.SpanId, found.ParentId, found.Sampled, found.SingleHeader));
    }

    [Fact]
    public void B3_keeps_a_64_bit_trace_id_padded_and_remembers_its_size()
    {
        var found = Extract("b3", ("x-b3-traceid", Trace8), ("x-b3-spanid", Span))!;
        Assert.Equal(Hex128("0000000000000000" + Trace8), found.TraceId);
        Assert.Equal(8, found.TraceIdSize);
        Assert.Null(found.Sampled);
    }

    [Fact]
    public void B3_with_only_a_sampling_decision_is_found_with_no_ids()
    {
        var found = Extract("b3", ("x-b3-sampled", "0"))!;
        Assert.Equal(("b3", null, null, false), (found.Format, found.TraceId, found.SpanId, found.Sampled));
        Assert.Equal(false, Extract("b3", ("b3", "0"))!.Sampled);
        Assert.Equal((true, "1"), (Extract("b3", ("b3", "d"))!.Sampled, Extract("b3", ("b3", "d"))!.Flags));
    }

    [Fact]
    public void B3_flags_1_means_sampled_and_is_kept()
    {
        var found = Extract("b3", ("x-b3-traceid", Trace), ("x-b3-spanid", Span), ("x-b3-flags", "1"))!;
        Assert.Equal((true, "1"), (found.Sampled, found.Flags));
    }

    [Theory]
    [InlineData(Trace + "-" + Span + "-1-" + Span2, true, Span2)]
    [InlineData(Trace + "-" + Span + "-0", false, null)]
    [InlineData(Trace + "-" + Span, null, null)]
    [InlineData(Trace8 + "-" + Span + "-d", true, null)]
    public void B3_reads_the_single_header(string b3, bool? sampled, string? parent)
    {
        var found = Extract("b3", ("b3", b3))!;
        Assert.True(found.SingleHeader);
        Assert.Equal(Hex64(Span), found.SpanId);
        Assert.Equal(sampled, found.Sampled);
        Assert.Equal(parent is null ? null : Hex64(parent), found.ParentId);
        Assert.Equal(b3.StartsWith(Trace8, StringComparison.Ordinal) ? 8 : 16, found.TraceIdSize);
    }

    [Fact]
    public void B3_reads_a_b3_tracestate_as_the_single_header()
    {
        var found = Extract("b3", ("tracestate", $"b3={Trace}-{Span}-1"))!;
        Assert.Equal((Hex128(Trace), Hex64(Span), true, true), (found.TraceId, found.SpanId, found.Sampled, found.SingleHeader));
    }

    [Fact]
    public void A_tracestate_without_b3_leaves_the_traceparent_to_w3c_even_with_b3_extracted_first()
    {
        var found = Propagation(["b3", "w3c"]).Extract(Headers(("traceparent", $"00-{Trace}-{Span}-01"), ("tracestate", "vendor=1")))!;
        Assert.Equal("w3c", found.Format);
    }

    [Theory]
    [InlineData("x-b3-traceid", "123", "x-b3-traceid header invalid; ignoring.")]
    [InlineData("x-b3-traceid", "zz2d8c1f0a9b7e6d", "x-b3-traceid header invalid; ignoring.")]
    [InlineData("x-b3-spanid", "12345", "x-b3-spanid header invalid; ignoring.")]
    [InlineData("x-b3-parentspanid", "12345", "x-b3-parentspanid header invalid; ignoring.")]
    public void B3_with_an_invalid_id_has_no_ids_and_keeps_the_decision(string header, string value, string warning)
    {
        (string, string)[] headers = [("x-b3-traceid", Trace), ("x-b3-spanid", Span), ("x-b3-sampled", "1")];
        var found = Extract("b3", [.. headers.Where(h => h.Item1 != header), (header, value)])!;
        Assert.Equal(("b3", null, null, true), (found.Format, found.TraceId, found.SpanId, found.Sampled));
        AssertWarned(warning);
    }

    [Fact]
    public void B3_an_invalid_single_header_is_ignored_and_the_multiple_headers_used()
    {
        var found = Extract("b3", ("b3", "nonsense"), ("x-b3-traceid", Trace), ("x-b3-spanid", Span), ("x-b3-sampled", "maybe"))!;
        Assert.Equal((Hex128(Trace), Hex64(Span), null), (found.TraceId, found.SpanId, found.Sampled));
        AssertWarned("b3 single header invalid; ignoring.");
        AssertWarned("x-b3-sampled header invalid; ignoring.");
    }

    // --- jaeger

    [Fact]
    public void Jaeger_reads_uber_trace_id_and_its_baggage()
    {
        var found = Extract("jaeger", ("uber-trace-id", $"{Trace}:{Span}:{Span2}:1"), ("uberctx-Session", "a%20b+c"), ("uberctx-x", "y"))!;
        Assert.Equal(("jaeger", Hex128(Trace), 16, Hex64(Span), Hex64(Span2), true),
            (found.Format, found.TraceId, found.TraceIdSize, found.SpanId, found.ParentId, found.Sampled));
        Assert.Equal([new("session", "a b c"), new("x", "y")], found.Baggage!);
    }

    [Fact]
    public void Jaeger_accepts_short_ids_and_a_zero_parent()
    {
        var found = Extract("jaeger", ("uber-trace-id", "abc:def:0:00"))!;
        Assert.Equal((Hex128("abc"), 2, 0xdefUL, (ulong?)null, false), (found.TraceId, found.TraceIdSize, found.SpanId, found.ParentId, found.Sampled));
    }

    [Theory]
    [InlineData(Trace + ":" + Span + ":0", "invalid jaeger uber-trace-id header; ignoring.")]
    [InlineData(Trace + ":" + Span + ":0:zz", "invalid jaeger uber-trace-id header; ignoring.")]
    [InlineData("0:" + Span + ":0:1", "invalid jaeger trace ID; ignoring.")]
    [InlineData(Trace + "1:" + Span + ":0:1", "invalid jaeger trace ID; ignoring.")]
    [InlineData(Trace + ":" + Span + "1:0:1", "invalid jaeger span ID; ignoring.")]
    [InlineData(Trace + ":0:0:1", "invalid jaeger span ID; ignoring.")]
    [InlineData(Trace + ":" + Span + ":0:001", "invalid jaeger flags; ignoring.")]
    public void Jaeger_ignores_an_invalid_header(string value, string warning) =>
        AssertIgnored(Extract("jaeger", ("uber-trace-id", value)), warning);

    // --- ot

    [Fact]
    public void Ot_reads_its_headers_and_baggage()
    {
        var found = Extract("ot", ("ot-tracer-traceid", Trace8), ("ot-tracer-spanid", Span), ("ot-tracer-sampled", "true"), ("ot-baggage-k", "v%2F1"))!;
        Assert.Equal(("ot", Hex128(Trace8), 8, Hex64(Span), true), (found.Format, found.TraceId, found.TraceIdSize, found.SpanId, found.Sampled));
        Assert.Equal([new("k", "v/1")], found.Baggage!);
    }

    [Fact]
    public void Ot_with_an_invalid_span_id_keeps_only_the_decision()
    {
        var found = Extract("ot", ("ot-tracer-traceid", Trace), ("ot-tracer-spanid", "123"), ("ot-tracer-sampled", "0"))!;
        Assert.Equal((null, null, false), (found.TraceId, found.SpanId, found.Sampled));
        AssertWarned("ot-tracer-spanid header invalid; ignoring.");
        AssertIgnored(Extract("ot", ("ot-tracer-traceid", "xyz")), "ot-tracer-traceid header invalid; ignoring.");
    }

    // --- aws

    [Fact]
    public void Aws_reads_root_parent_and_sampled()
    {
        var found = Extract("aws", ("X-Amzn-Trace-Id", $"Root=1-4e2d8c1f-0a9b7e6d5c4b3a2918070605; Parent={Span} ;Sampled=1;Self=x"))!;
        Assert.Equal(("aws", Hex128(Trace), 16, Hex64(Span), true), (found.Format, found.TraceId, found.TraceIdSize, found.SpanId, found.Sampled));
    }

    [Theory]
    [InlineData("Root=2-4e2d8c1f-0a9b7e6d5c4b3a2918070605", "invalid aws header trace id; ignoring.")]
    [InlineData("Root=1-4e2d8c1f0-a9b7e6d5c4b3a2918070605", "invalid aws header trace id; ignoring.")]
    [InlineData("Root=1-4e2d8c1f-0a9b7e6d5c4b3a291807060", "invalid aws header trace id; ignoring.")]
    [InlineData("Root=1-4e2d8c1f-0a9b7e6d5c4b3a2918070605;Parent=123", "invalid aws header parent id; ignoring.")]
    [InlineData("Root=1-4e2d8c1f-0a9b7e6d5c4b3a2918070605;Sampled=2", "invalid aws header sampled flag; ignoring.")]
    public void Aws_ignores_the_whole_header_when_a_part_is_invalid(string value, string warning) =>
        AssertIgnored(Extract("aws", ("x-amzn-trace-id", value)), warning);

    // --- gcp

    [Theory]
    [InlineData(Trace + "/12345;o=1", 0x3039UL, true)]
    [InlineData(Trace + "/12345;o=0", 0x3039UL, false)]
    [InlineData(Trace + "/12345", 0x3039UL, false)]
    [InlineData(Trace + "/99999999999999999999;o=1", 0x6bc75e2d630fffffUL, true)] // beyond 64 bits: the last 8 bytes
    public void Gcp_reads_x_cloud_trace_context(string value, ulong span, bool sampled)
    {
        var found = Extract("gcp", ("X-Cloud-Trace-Context", value))!;
        Assert.Equal(("gcp", Hex128(Trace), span, sampled), (found.Format, found.TraceId, found.SpanId, found.Sampled));
    }

    [Theory]
    [InlineData("4E2D8C1F0A9B7E6D5C4B3A2918070605/1;o=1")]
    [InlineData(Trace + "/abc;o=1")]
    [InlineData(Trace + "/123456789012345678901")]
    [InlineData(Trace + ";o=1")]
    public void Gcp_ignores_an_invalid_header(string value) =>
        AssertIgnored(Extract("gcp", ("x-cloud-trace-context", value)), "invalid GCP header; ignoring.");

    // --- datadog

    [Theory]
    [InlineData("1", true)]
    [InlineData("2", true)]
    [InlineData("0", false)]
    [InlineData("-1", false)]
    public void Datadog_reads_decimal_ids_and_the_sampling_priority(string priority, bool sampled)
    {
        var found = Extract("datadog", ("x-datadog-trace-id", " " + Trace8Decimal), ("x-datadog-parent-id", SpanDecimal), ("x-datadog-sampling-priority", priority))!;
        Assert.Equal(("datadog", Hex128(Trace8), 8, Hex64(Span), sampled), (found.Format, found.TraceId, found.TraceIdSize, found.SpanId, found.Sampled));
    }

    [Fact]
    public void Datadog_a_short_trace_id_has_its_byte_size()
    {
        var found = Extract("datadog", ("x-datadog-trace-id", "1234567890"))!; // 0x499602d2: 4 bytes
        Assert.Equal((1234567890, 4, null), ((long)found.TraceId!.Value, found.TraceIdSize, found.Sampled));
    }

    [Fact]
    public void Datadog_ignores_what_is_invalid()
    {
        AssertIgnored(Extract("datadog", ("x-datadog-trace-id", "1"), ("x-datadog-sampling-priority", "5")), "x-datadog-sampling-priority header invalid; ignoring.");
        var found = Extract("datadog", ("x-datadog-trace-id", "12ab"), ("x-datadog-parent-id", "7"), ("x-datadog-sampling-priority", "1"))!;
        Assert.Equal((null, null, true), (found.TraceId, found.SpanId, found.Sampled)); // no trace: no parent either
        AssertWarned("x-datadog-trace-id header invalid; ignoring.");
    }

    // --- instana

    [Fact]
    public void Instana_reads_t_s_and_l()
    {
        var found = Extract("instana", ("x-instana-t", Trace8), ("x-instana-s", Span), ("x-instana-l", "1,correlationType=web;correlationId=1234"))!;
        Assert.Equal(("instana", Hex128(Trace8), 8, Hex64(Span), true), (found.Format, found.TraceId, found.TraceIdSize, found.SpanId, found.Sampled));
        Assert.Equal(false, Extract("instana", ("x-instana-t", Trace), ("x-instana-s", Span))!.Sampled); // no level: not sampled
        Assert.Null(Extract("instana", ("x-instana-t", Trace), ("x-instana-l", "1"))); // no span header: nothing read
        Extract("instana", ("x-instana-t", "abc"), ("x-instana-s", Span));
        AssertWarned("x-instana-t header invalid; ignoring.");
    }

    // --- the extraction order

    [Fact]
    public void The_first_format_of_extract_that_finds_a_context_wins_and_unlisted_formats_are_not_read()
    {
        var headers = Headers(("traceparent", $"00-{Trace}-{Span}-01"), ("uber-trace-id", $"{Trace8}:{Span2}:0:1"));
        Assert.Equal("jaeger", Propagation(["jaeger", "w3c"]).Extract(headers)!.Format);
        Assert.Equal("w3c", Propagation(["w3c", "jaeger"]).Extract(headers)!.Format);
        Assert.Null(Propagation(["b3", "ot"]).Extract(headers));
        // an invalid header is skipped and the next format read
        Assert.Equal("jaeger", Propagation(["w3c", "jaeger"]).Extract(Headers(("traceparent", "garbage"), ("uber-trace-id", $"{Trace8}:{Span2}:0:1")))!.Format);
    }

    // --- injection: the exact headers

    private static InjectContext Context(bool sampled = true, ulong? parent = null, ExtractedContext? from = null) =>
        new(Hex128(Trace), Hex64(Span), parent ?? Hex64(Span2), sampled, from);

    private Dictionary<string, string> Inject(string format, InjectContext context, string defaultFormat = "w3c")
    {
        var headers = new HeaderDictionary();
        Propagation(inject: [format], defaultFormat: defaultFormat).Inject(headers, context);
        return headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
    }

    [Fact]
    public void Injects_w3c() =>
        Assert.Equal(new Dictionary<string, string> { ["traceparent"] = $"00-{Trace}-{Span}-01" }, Inject("w3c", Context()));

    [Fact]
    public void Injects_b3_with_the_parent_and_the_clients_trace_id_size_and_flags()
    {
        Assert.Equal(new Dictionary<string, string>
        {
            ["x-b3-traceid"] = Trace, ["x-b3-spanid"] = Span, ["x-b3-parentspanid"] = Span2, ["x-b3-sampled"] = "1",
        }, Inject("b3", Context()));
        var from = new ExtractedContext("b3") { TraceIdSize = 8, Flags = "1" };
        Assert.Equal(new Dictionary<string, string>
        {
            ["x-b3-traceid"] = Trace8, ["x-b3-spanid"] = Span, ["x-b3-parentspanid"] = Span2, ["x-b3-flags"] = "1",
        }, Inject("b3", Context(from: from)));
    }

    [Fact]
    public void Injects_b3_single()
    {
        Assert.Equal($"{Trace}-{Span}-1-{Span2}", Inject("b3-single", Context())["b3"]);
        Assert.Equal($"{Trace}-{Span}-0", Inject("b3-single", Context(sampled: false) with { ParentId = null })["b3"]);
        Assert.Equal($"{Trace8}-{Span}-d-{Span2}", Inject("b3-single", Context(from: new ExtractedContext("b3") { TraceIdSize = 8, Flags = "1" }))["b3"]);
    }

    [Fact]
    public void Injects_jaeger_with_baggage()
    {
        var from = new ExtractedContext("ot") { Baggage = [new("session", "a b/c")] };
        Assert.Equal(new Dictionary<string, string>
        {
            ["uber-trace-id"] = $"{Trace}:{Span}:{Span2}:01", ["uberctx-session"] = "a%20b%2Fc",
        }, Inject("jaeger", Context(from: from)));
        Assert.Equal($"{Trace8}:{Span}:0:00", Inject("jaeger", Context(sampled: false, from: new ExtractedContext("jaeger") { TraceIdSize = 8 }) with { ParentId = null })["uber-trace-id"]);
    }

    [Fact]
    public void Injects_ot_at_64_bits_unless_the_client_sent_128()
    {
        var from = new ExtractedContext("jaeger") { Baggage = [new("k", "v")] };
        Assert.Equal(new Dictionary<string, string>
        {
            ["ot-tracer-traceid"] = Trace8, ["ot-tracer-spanid"] = Span, ["ot-tracer-sampled"] = "1", ["ot-baggage-k"] = "v",
        }, Inject("ot", Context(from: from)));
        Assert.Equal(Trace, Inject("ot", Context(sampled: false, from: new ExtractedContext("ot") { TraceIdSize = 16 }))["ot-tracer-traceid"]);
    }

    [Fact]
    public void Injects_aws() => Assert.Equal(new Dictionary<string, string>
    {
        ["x-amzn-trace-id"] = $"Root=1-4e2d8c1f-0a9b7e6d5c4b3a2918070605;Parent={Span};Sampled=1",
    }, Inject("aws", Context()));

    [Fact]
    public void Injects_gcp_with_a_decimal_span_id() => Assert.Equal(new Dictionary<string, string>
    {
        ["x-cloud-trace-context"] = $"{Trace}/{SpanDecimal};o=0",
    }, Inject("gcp", Context(sampled: false)));

    [Fact]
    public void Injects_datadog_as_decimal_64_bit_ids() => Assert.Equal(new Dictionary<string, string>
    {
        ["x-datadog-trace-id"] = Trace8Decimal, ["x-datadog-parent-id"] = SpanDecimal, ["x-datadog-sampling-priority"] = "1",
    }, Inject("datadog", Context()));

    [Fact]
    public void Injects_instana() => Assert.Equal(new Dictionary<string, string>
    {
        ["x-instana-t"] = Trace, ["x-instana-s"] = Span, ["x-instana-l"] = "0",
    }, Inject("instana", Context(sampled: false)));

    [Fact]
    public void Preserve_injects_the_extracted_format_b3_single_for_a_single_header_else_the_default()
    {
        Assert.Equal(["uber-trace-id"], Inject("preserve", Context(from: new ExtractedContext("jaeger"))).Keys);
        Assert.Equal(["b3"], Inject("preserve", Context(from: new ExtractedContext("b3") { SingleHeader = true })).Keys);
        Assert.Equal(["x-datadog-trace-id", "x-datadog-parent-id", "x-datadog-sampling-priority"], Inject("preserve", Context(), defaultFormat: "datadog").Keys);
    }

    [Fact]
    public void Clear_removes_the_listed_headers()
    {
        var headers = Headers(("uber-trace-id", "x"), ("keep", "y"));
        Propagation(clear: ["Uber-Trace-Id"]).Clear(headers);
        Assert.Equal(["keep"], headers.Keys);
    }

    // --- ids

    [Fact]
    public void Ids_are_written_as_zero_padded_lower_case_hex_and_traceparent_in_one_string()
    {
        var rng = new Random(7);
        for (var i = 0; i < 200; i++)
        {
            var trace = new UInt128((ulong)rng.NextInt64() >> (i % 64), (ulong)rng.NextInt64());
            var span = (ulong)rng.NextInt64() >> (i % 64);
            Assert.Equal(trace.ToString("x32", System.Globalization.CultureInfo.InvariantCulture), TraceIds.Hex(trace));
            Assert.Equal(span.ToString("x16", System.Globalization.CultureInfo.InvariantCulture), TraceIds.Hex(span));
            Assert.Equal($"00-{trace:x32}-{span:x16}-{(i % 2 == 0 ? "01" : "00")}", TraceIds.TraceParent(trace, span, i % 2 == 0));
        }
        Assert.NotEqual(UInt128.Zero, TraceIds.NewTraceId());
        Assert.NotEqual(0UL, TraceIds.NewSpanId());
    }

    [Fact]
    public void The_sampler_decides_the_same_on_an_id_held_as_kongs_bytes_as_on_its_activity_form()
    {
        for (var i = 0; i < 2_000; i++)
        {
            var id = ActivityTraceId.CreateRandom();
            foreach (var rate in new[] { 0.5, 0.01, 0.9 })
                Assert.Equal(TraceIdSampler.Sample(id, rate), TraceIdSampler.Sample(TraceIds.From(id), rate));
        }
    }

    [Theory]
    [InlineData("traceparent")]
    [InlineData("X-B3-Sampled")]
    [InlineData("x-datadog-trace-id")]
    [InlineData("X-Instana-L")]
    [InlineData("Uber-Trace-Id")]
    public void A_request_is_only_searched_for_a_context_when_it_has_a_header_an_extractor_reads(string name)
    {
        var headers = new HeaderDictionary { ["Host"] = "h", ["User-Agent"] = "u", ["uberctx-k"] = "v" };
        Assert.False(TraceExtractors.AnyContextHeader(headers));
        headers[name] = "x";
        Assert.True(TraceExtractors.AnyContextHeader(headers));
    }

    // --- Kong's sampler

    [Theory]
    [InlineData("ffffffffffffff7f" + "0000000000000001", true)]  // first 8 bytes little-endian: 2^63 - 1
    [InlineData("0000000000000080" + "0000000000000001", false)] // 2^63: the bound at 0.5
    [InlineData("7f00000000000000" + "ffffffffffffffff", true)]  // 0x7f
    [InlineData("00000000000000ff" + "0000000000000001", false)]
    public void The_sampler_compares_the_trace_ids_first_8_bytes_little_endian_with_the_rate(string trace, bool sampled)
    {
        Assert.Equal(sampled, TraceIdSampler.Sample(ActivityTraceId.CreateFromString(trace), 0.5));
        Assert.True(TraceIdSampler.Sample(ActivityTraceId.CreateFromString(trace), 1));
        Assert.False(TraceIdSampler.Sample(ActivityTraceId.CreateFromString(trace), 0));
    }

    [Fact]
    public void The_sampler_samples_about_the_rate_of_random_trace_ids_and_always_agrees_with_itself()
    {
        var ids = Enumerable.Range(0, 20_000).Select(_ => ActivityTraceId.CreateRandom()).ToArray();
        foreach (var rate in new[] { 0.5, 0.1, 0.01 })
        {
            var share = ids.Count(id => TraceIdSampler.Sample(id, rate)) / (double)ids.Length;
            Assert.InRange(share, rate * 0.8, rate * 1.2);
        }
        Assert.All(ids.Take(100), id => Assert.Equal(TraceIdSampler.Sample(id, 0.3), TraceIdSampler.Sample(ActivityTraceId.CreateFromString(id.ToHexString()), 0.3)));
    }

    [Theory]
    [InlineData(null, true)]
    [InlineData(true, true)]
    [InlineData(false, false)]
    public void A_parent_that_says_not_sampled_wins_and_one_that_says_sampled_leaves_it_to_the_rate(bool? parent, bool expected)
    {
        var sampledAtHalf = TraceIds.TraceFromHex("7f000000000000000000000000000001");
        var notSampledAtHalf = TraceIds.TraceFromHex("00000000000000ff0000000000000001");
        Assert.Equal(expected, TraceIdSampler.Decide(parent, sampledAtHalf, 0.5));
        Assert.False(TraceIdSampler.Decide(parent, notSampledAtHalf, 0.5));
    }
}
