using System.Diagnostics;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Entities;
using Gatehouse.Proxy.Pipeline;
using Gatehouse.Proxy.Tracing;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Plugins.Bundled.OpenTelemetry;

/// <summary>
/// Kong's opentelemetry plugin (priority 14), traces only: the request's spans (<see cref="RequestTrace"/>: the
/// request, the router, each plugin step, each Proxy-Wasm filter callback, each upstream try) are exported over
/// OTLP/HTTP protobuf by the OpenTelemetry SDK's exporter through a bounded queue (<see cref="SpanQueue"/>). The trace
/// context is extracted from the client and injected to the upstream in every format of Kong's
/// (<see cref="TracePropagation"/>); sampling is Kong's, by trace id (<see cref="TraceIdSampler"/>). What is not
/// implemented (logs export, queue retries) is refused when written.
/// docs/observability.md.
/// </summary>
public sealed class OpenTelemetryPlugin : GatehousePlugin
{
    public override string Name => TracingPlugin.Name;
    public override int Priority => 14;
    public override IReadOnlyList<string> Protocols { get; } = ["grpc", "grpcs", "http", "https"];

    public override IReadOnlyList<FieldDefinition> ConfigFields { get; } =
    [
        Url("traces_endpoint"),
        Url("endpoint"), // Kong's deprecated shorthand for traces_endpoint
        Url("logs_endpoint") with { Custom = _ => "logs export is not implemented by Gatehouse's opentelemetry plugin (traces only)" },
        new FieldDefinition("headers", FieldType.Map) { Keys = new("header", FieldType.String), Values = new("value", FieldType.String) { Referenceable = true } },
        new FieldDefinition("resource_attributes", FieldType.Map)
        {
            Keys = new("key", FieldType.String) { Required = true },
            Values = new("value", FieldType.String) { Required = true, Custom = v => v.GetValue<string>().Length == 0 ? "required field missing" : null },
        },
        new FieldDefinition("queue", FieldType.Record)
        {
            Required = true, Default = new JsonObject(),
            Fields =
            [
                PluginFields.Integer("max_batch_size", 200) with { Between = (1, 1_000_000) },
                PluginFields.Number("max_coalescing_delay", 1) with { Required = true, Custom = PluginFields.Between(0, 3600) },
                PluginFields.Integer("max_entries", 10000) with { Between = (1, 1_000_000) },
                NoRetry("max_retry_time", 60),
                NoRetry("initial_retry_delay", 0.01),
                NoRetry("max_retry_delay", 60),
            ],
        },
        new FieldDefinition("batch_span_count", FieldType.Integer) { Between = (1, 1_000_000) },
        new FieldDefinition("batch_flush_delay", FieldType.Integer) { Between = (0, 3600) },
        PluginFields.Integer("connect_timeout", 1000) with { Between = (0, int.MaxValue) },
        PluginFields.Integer("send_timeout", 5000) with { Between = (0, int.MaxValue) },
        PluginFields.Integer("read_timeout", 5000) with { Between = (0, int.MaxValue) },
        PluginFields.String("http_response_header_for_traceid"),
        PluginFields.String("header_type", "preserve") with { OneOf = ["preserve", "ignore", .. TracePropagation.Formats] },
        PluginFields.Number("sampling_rate") with { Custom = PluginFields.Between(0, 1) },
        new FieldDefinition("propagation", FieldType.Record)
        {
            Required = true, Default = new JsonObject { ["default_format"] = "w3c" },
            Fields =
            [
                Formats("extract", [.. TracePropagation.Formats.Where(f => f != "b3-single")]), // b3's extractor reads both
                new FieldDefinition("clear", FieldType.Array) { Elements = new("clear", FieldType.String) },
                Formats("inject", ["preserve", .. TracePropagation.Formats]),
                PluginFields.String("default_format", "w3c", required: true) with { OneOf = [.. TracePropagation.Formats] },
            ],
        },
    ];

    public override IReadOnlyList<EntityCheck> ConfigChecks { get; } = [new AtLeastOneOfCheck(["traces_endpoint", "endpoint", "logs_endpoint"])];

    private static FieldDefinition Url(string name) => PluginFields.String(name) with
    {
        Referenceable = true,
        Custom = v => Uri.TryCreate(v.GetValue<string>(), UriKind.Absolute, out var u) && u.Scheme is "http" or "https" ? null : "missing host in url",
    };

    private static FieldDefinition Formats(string name, string[] kong) => new(name, FieldType.Array)
    {
        Elements = new FieldDefinition(name, FieldType.String) { OneOf = kong },
    };

    /// <summary>A batch the collector refuses is dropped, not retried: only the default may be written.</summary>
    private static FieldDefinition NoRetry(string name, double @default) => PluginFields.Number(name, @default) with
    {
        Required = true,
        Custom = v => Math.Abs(v.GetValue<double>() - @default) < 1e-9 ? null
            : "queue retries are not implemented by Gatehouse's opentelemetry plugin (a refused batch is dropped and counted)",
    };


    public override PluginHandler Create(JsonObject config, PluginBuildContext context)
    {
        var queue = ConfigRead.Record(config, "queue") ?? [];
        var endpoint = ConfigRead.String(config, "traces_endpoint") ?? ConfigRead.String(config, "endpoint")
            ?? throw new InvalidOperationException("opentelemetry: no traces_endpoint");
        var settings = new SpanExportSettings(new Uri(endpoint), Pairs(config["headers"]), Pairs(config["resource_attributes"]),
            (int)(ConfigRead.Long(config, "batch_span_count") ?? ConfigRead.Long(queue, "max_batch_size") ?? 200),
            TimeSpan.FromSeconds(ConfigRead.Long(config, "batch_flush_delay") ?? ConfigRead.Number(queue, "max_coalescing_delay") ?? 1),
            (int)(ConfigRead.Long(queue, "max_entries") ?? 10000),
            TimeSpan.FromMilliseconds(ConfigRead.Long(config, "connect_timeout") ?? 1000),
            TimeSpan.FromMilliseconds(ConfigRead.Long(config, "send_timeout") ?? 5000),
            TimeSpan.FromMilliseconds(ConfigRead.Long(config, "read_timeout") ?? 5000));
        var exporters = context.Services.SpanExporters;
        var propagation = Propagation(config, context.Services.Loggers.CreateLogger<TracePropagation>());
        return new Handler(exporters.For(settings), new SpanMaker(exporters.Source), propagation,
            ConfigRead.Number(config, "sampling_rate") ?? exporters.DefaultSamplingRate, exporters.DefaultSamplingRate,
            ConfigRead.String(config, "http_response_header_for_traceid"));
    }

    private static KeyValuePair<string, string>[] Pairs(JsonNode? map) =>
        (map as JsonObject)?.Select(p => new KeyValuePair<string, string>(p.Key, p.Value?.GetValue<string>() ?? "")).ToArray() ?? [];

    /// <summary>Kong's rule (get_plugin_params): when none of propagation.extract, .clear, .inject is set, the
    /// deprecated header_type decides (preserve: extract every format, inject the one found; ignore: extract nothing,
    /// inject default_format; a format: extract every format, inject the one found and that one).</summary>
    internal static TracePropagation Propagation(JsonObject config, ILogger logger)
    {
        var propagation = ConfigRead.Record(config, "propagation") ?? [];
        var defaultFormat = ConfigRead.String(propagation, "default_format") ?? "w3c";
        var clear = Strings(propagation["clear"]);
        var extract = Strings(propagation["extract"]);
        var inject = Strings(propagation["inject"]);
        if (propagation["extract"] is null && propagation["clear"] is null && propagation["inject"] is null)
        {
            var headerType = ConfigRead.String(config, "header_type") ?? "preserve";
            (extract, inject) = headerType switch
            {
                "ignore" => ((string[])[], (string[])[defaultFormat]),
                "preserve" => ([.. TracePropagation.HeaderTypeExtract], ["preserve"]),
                _ => ([.. TracePropagation.HeaderTypeExtract], ["preserve", headerType]),
            };
        }
        return new TracePropagation(extract, clear, inject, defaultFormat, logger);
    }

    private static string[] Strings(JsonNode? array) =>
        (array as JsonArray)?.Select(n => n?.GetValue<string>() ?? "").ToArray() ?? [];

    private sealed class Handler(SpanQueue queue, SpanMaker spans, TracePropagation propagation, double samplingRate,
        double globalSamplingRate, string? traceIdHeader) : PluginHandler, ITraceSink, IUpfrontSampler
    {
        public bool DecidesSampling => true;

        /// <summary>The decision <see cref="AccessAsync"/> would take, taken before the request's trace is made, on the
        /// headers as they are now, so that an unsampled request makes none. Taken again (before the step, after the
        /// steps ahead of it: <see cref="PendingTrace.Defer"/>) it keeps the trace id drawn the first time. With steps
        /// ahead, a request one of them ends is traced at tracing_sampling_rate from a fresh trace (<see cref="LogAsync"/>):
        /// that draw is made now too, and the request is left out only when neither samples it.</summary>
        public bool LeavesOut(ProxyContext context, bool ahead)
        {
            ref var upfront = ref context.PendingTrace;
            var extracted = propagation.Extract(context.HttpContext.Request.Headers);
            var traceId = extracted?.TraceId ?? (upfront.Sampled is null ? TraceIds.NewTraceId() : upfront.TraceId);
            var sampled = TraceIdSampler.Decide(extracted?.Sampled, traceId, samplingRate);
            upfront.Decide(sampled, traceId, extracted);
            return !sampled && !(ahead && TraceIdSampler.Decide(null, TraceIds.NewTraceId(), globalSamplingRate));
        }

        /// <summary>Kong's access handler: extract, decide sampling, make the request span and the first upstream
        /// try's span (whose id the upstream receives as its parent), inject.</summary>
        public override ValueTask<PhaseOutcome> AccessAsync(Kong kong)
        {
            var headers = kong.Context.HttpContext.Request.Headers; // kong.request's headers, without making the PDK's request object
            ref var upfront = ref kong.Context.PendingTrace;
            var extracted = upfront.Sampled is null ? propagation.Extract(headers) : (ExtractedContext?)upfront.Extracted;
            propagation.Clear(headers);
            InjectContext injection;
            var trace = kong.Context.Trace;
            if (upfront.Sampled == false)
            {
                // left out before its trace was made (LeavesOut): propagated as below, nothing recorded
                kong.Context.Trace = null;
                injection = Unsampled(upfront.TraceId, upfront.Steps, extracted);
            }
            else if (trace is null)
            {
                // tracing_instrumentations off: Kong only propagates, from a span never exported, and says "not sampled"
                injection = new InjectContext(extracted?.TraceId ?? TraceIds.NewTraceId(), TraceIds.NewSpanId(),
                    extracted?.SpanId ?? extracted?.ParentId, Sampled: false, extracted);
            }
            else if (Begin(trace, extracted, samplingRate, upfront.Sampled is null ? null : upfront.TraceId, out var traceId))
            {
                // the upstream's parent: the first try's span, or the request's when balancer spans are off (Kong's rule)
                var injected = trace.PrepareBalancer() is { } balancer ? spans.Make(balancer, sampled: true) : trace.Root.Activity!;
                injection = new InjectContext(traceId, TraceIds.From(injected.SpanId),
                    injected.ParentSpanId == default ? null : TraceIds.From(injected.ParentSpanId), Sampled: true, extracted);
            }
            else
            {
                // not sampled by the step itself (a trace made because another step ran first): the rest of the request
                // records nothing (the trace is dropped here, every later step is one null check)
                kong.Context.Trace = null;
                injection = Unsampled(traceId, trace.Steps, extracted);
            }
            propagation.Inject(headers, injection);
            if (traceIdHeader is not null) kong.Response.SetHeader(traceIdHeader, TraceIds.Hex(injection.TraceId), deferred: true);
            // nothing recorded: the log step would find no trace (the trace-id header above is applied by the header
            // phase's deferred-headers step all the same), so the request passes over it
            if (kong.Context.Trace is null) kong.SkipLaterPhases();
            return ValueTask.FromResult(PhaseOutcome.Continue);
        }

        /// <summary>An unsampled request's propagation: the ids a recorded trace would have had (request span, first try
        /// under it), made without spans, in the trace the sampler decided on.</summary>
        private static InjectContext Unsampled(UInt128 traceId, TracedSteps steps, ExtractedContext? extracted)
        {
            var request = TraceIds.NewSpanId();
            return (steps & TracedSteps.Balancer) != 0
                ? new InjectContext(traceId, TraceIds.NewSpanId(), request, Sampled: false, extracted)
                : new InjectContext(traceId, request, extracted?.SpanId ?? extracted?.ParentId, Sampled: false, extracted);
        }

        /// <summary>The request's spans go to the queue once the log phase is over (<see cref="Export"/>: the filters'
        /// <c>on_log</c> runs after the plugins). A request the plugin's access step did not see, e.g. one an
        /// authentication plugin refused, gets a fresh trace, sampled at tracing_sampling_rate as Kong's request span.</summary>
        public override ValueTask LogAsync(Kong kong)
        {
            if (kong.Context.Trace is not { } trace) return ValueTask.CompletedTask;
            if (trace.Root.Activity is not null || Begin(trace, null, globalSamplingRate, null, out _)) trace.Sink = this;
            return ValueTask.CompletedTask;
        }

        public void Export(RequestTrace trace)
        {
            // children first, the request span last (the order they ended in): a collector that has the request span
            // has the whole trace
            var current = Activity.Current;
            foreach (var span in trace.Spans)
            {
                if (span == trace.Root || span.End == default) continue; // End unset: a prepared try never reached
                var activity = span.Activity ?? spans.Make(span, sampled: true, restoreCurrent: false);
                SpanMaker.Finish(activity, span);
                queue.OnEnd(activity);
            }
            Activity.Current = current;
            SpanMaker.Finish(trace.Root.Activity!, trace.Root);
            queue.OnEnd(trace.Root.Activity!);
        }

        /// <summary>The request span in the client's trace (or a new one), sampled as Kong decides: a client that said
        /// "not sampled" wins, otherwise the trace id and the rate (<see cref="TraceIdSampler"/>).</summary>
        /// <returns>whether the trace is sampled; only a sampled trace gets its spans' identities (Activities)</returns>
        /// <param name="traceId">the trace the decision was made on, which the upstream is told</param>
        /// <param name="decidedOn">the trace id an upfront decision (<see cref="LeavesOut"/>) was taken on</param>
        private bool Begin(RequestTrace trace, ExtractedContext? extracted, double rate, UInt128? decidedOn, out UInt128 traceId)
        {
            traceId = decidedOn ?? extracted?.TraceId ?? TraceIds.NewTraceId();
            trace.Sampled = TraceIdSampler.Decide(extracted?.Sampled, traceId, rate);
            if (trace.Sampled) spans.MakeRoot(trace.Root, TraceIds.ToActivity(traceId), extracted?.RequestParent, sampled: true);
            return trace.Sampled;
        }
    }
}
