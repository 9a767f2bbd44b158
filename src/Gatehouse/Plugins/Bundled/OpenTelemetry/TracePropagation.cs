using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Plugins.Bundled.OpenTelemetry;

/// <summary>
/// Kong's propagation (<c>config.propagation</c>, kong/observability/tracing/propagation/init.lua): extract with the
/// first format of <c>extract</c> that finds something (<see cref="TraceExtractors"/>), clear the <c>clear</c> headers,
/// inject every format of <c>inject</c> (<see cref="TraceInjectors"/>; <c>preserve</c>: the extracted format, b3 read
/// from its single header becoming b3-single, else <c>default_format</c>).
/// </summary>
internal sealed class TracePropagation(IReadOnlyList<string> extract, IReadOnlyList<string> clear, IReadOnlyList<string> inject,
    string defaultFormat, ILogger logger)
{
    /// <summary>Kong's formats (kong/observability/tracing/propagation/utils.lua; instana from Kong 3.10).</summary>
    public static IReadOnlyList<string> Formats { get; } = ["w3c", "b3", "b3-single", "jaeger", "ot", "aws", "gcp", "datadog", "instana"];

    /// <summary>The extraction order Kong gives the deprecated <c>header_type</c> (anything but <c>ignore</c>).</summary>
    public static IReadOnlyList<string> HeaderTypeExtract { get; } = ["b3", "w3c", "jaeger", "ot", "datadog", "aws", "gcp", "instana"];

    private readonly TraceExtractors _extractors = new(logger);

    public ExtractedContext? Extract(IHeaderDictionary headers)
    {
        if (extract.Count == 0 || !TraceExtractors.AnyContextHeader(headers)) return null;
        // indexed loops: foreach over a list's interface allocates an enumerator, per request here
        for (var i = 0; i < extract.Count; i++)
            if (_extractors.Extract(extract[i], headers) is { } found) return found;
        return null;
    }

    public void Clear(IHeaderDictionary headers)
    {
        for (var i = 0; i < clear.Count; i++) headers.Remove(clear[i]);
    }

    public void Inject(IHeaderDictionary headers, in InjectContext context)
    {
        for (var i = 0; i < inject.Count; i++)
        {
            var format = inject[i];
            var actual = format;
            if (format == "preserve")
            {
                actual = context.From?.Format ?? defaultFormat;
                if (actual == "b3" && context.From?.SingleHeader == true) actual = "b3-single";
            }
            TraceInjectors.Inject(actual, headers, context);
        }
    }
}
