using System.Text;
using ProxyWasm.Contexts;
using ProxyWasm.Http;
using ProxyWasm.Runtime;

namespace ProxyWasm.Tests.RealFilters;

/// <summary>
/// A minimal embedder for one filter: drives an <see cref="HttpFilterContext"/> through the phases of a
/// <see cref="RequestSpec"/>, honouring the outcomes (BufferBody keeps accumulating, Continue forwards the
/// buffered bytes, LocalResponse replaces the upstream response, Failed/Closed end the request) and records
/// every phase outcome, the bytes forwarded upstream and the bytes delivered downstream.
/// </summary>
internal sealed class FilterExchange
{
    private static readonly TimeSpan PhaseTimeout = TimeSpan.FromSeconds(15);

    private FilterExchange(HttpFilterContext context, InMemoryHttpStream stream)
    {
        Context = context;
        Stream = stream;
    }

    public HttpFilterContext Context { get; }

    public InMemoryHttpStream Stream { get; }

    public List<(string Phase, FilterOutcome Outcome)> Outcomes { get; } = [];

    /// <summary>The first outcome that was neither Continue nor BufferBody (the request's fate), or Continue.</summary>
    public FilterOutcome Final => Outcomes.Select(o => o.Outcome).FirstOrDefault(o => o.Kind is not (FilterOutcomeKind.Continue or FilterOutcomeKind.BufferBody));

    /// <summary>The local response the filter produced, if any.</summary>
    public LocalResponse? Local { get; private set; }

    public string ForwardedRequestBody => Encoding.UTF8.GetString(_forwarded.ToArray());

    public string DeliveredResponseBody => Encoding.UTF8.GetString(_delivered.ToArray());

    /// <summary>First value of a response header as the client would see it (null when absent).</summary>
    public string? ResponseHeader(string name) => Stream.ResponseHeaders.TryGetValue(name, out var v) ? v : null;

    /// <summary>First value of a request header as the upstream would see it (null when absent).</summary>
    public string? RequestHeader(string name) => Stream.RequestHeaders.TryGetValue(name, out var v) ? v : null;

    public FilterOutcome OutcomeOf(string phase) => Outcomes.Last(o => o.Phase == phase).Outcome;

    private readonly MemoryStream _forwarded = new();
    private readonly MemoryStream _delivered = new();

    public static (FilterExchange, InMemoryHttpStream) Open(FilterPlugin plugin, RequestSpec spec)
    {
        var stream = new InMemoryHttpStream(spec.Method, spec.Path);
        foreach (var (n, v) in spec.Headers) stream.RequestHeaders.Add(n, v);
        return (new FilterExchange(plugin.CreateHttpContext(stream), stream), stream);
    }

    public static async Task<FilterExchange> RunAsync(FilterPlugin plugin, RequestSpec spec)
    {
        var (x, _) = Open(plugin, spec);
        try
        {
            await x.DriveAsync(spec);
        }
        finally
        {
            x.Context.Dispose();
        }
        return x;
    }

    private async Task DriveAsync(RequestSpec spec)
    {
        bool stop = await RequestSideAsync(spec);
        if (stop && Local is null) return;
        if (Local is null)
        {
            Stream.ResponseHeaders.Add(":status", spec.Status.ToString(System.Globalization.CultureInfo.InvariantCulture));
            foreach (var (n, v) in spec.ResponseHeaders) Stream.ResponseHeaders.Add(n, v);
        }
        else
        {
            Stream.ResponseHeaders.Replace(":status", Local.StatusCode.ToString(System.Globalization.CultureInfo.InvariantCulture));
            foreach (var (n, v) in Local.Headers) Stream.ResponseHeaders.Add(n, v);
        }
        string[] body = Local is null ? spec.ResponseBody : Local.Body.Length == 0 ? [] : [Encoding.UTF8.GetString(Local.Body.Span)];
        var headers = await Phase("response_headers", Context.OnResponseHeadersAsync(spec.ResponseHeadersEos ?? body.Length == 0));
        if (headers.Kind == FilterOutcomeKind.LocalResponse)
        {
            Local = headers.LocalResponse; // replaces the upstream response (spec §2.6)
            Stream.ResponseHeaders.Replace(":status", Local!.StatusCode.ToString(System.Globalization.CultureInfo.InvariantCulture));
            _delivered.Write(Local.Body.Span);
        }
        else if (headers.Kind == FilterOutcomeKind.Continue && await BodyAsync("response_body", body, Stream.ResponseBody, _delivered, Context.OnResponseBodyAsync))
        {
            return;
        }
        if (headers.Kind is FilterOutcomeKind.Failed or FilterOutcomeKind.Closed) return;
        await Phase("done", Context.OnDoneAsync());
    }

    /// <summary>True when the request side ended the exchange (failure, close or local response).</summary>
    private async Task<bool> RequestSideAsync(RequestSpec spec)
    {
        var headers = await Phase("request_headers", Context.OnRequestHeadersAsync(spec.RequestHeadersEos ?? spec.RequestBody.Length == 0));
        if (Ended(headers)) return true;
        return await BodyAsync("request_body", spec.RequestBody, Stream.RequestBody, _forwarded, Context.OnRequestBodyAsync);
    }

    private async Task<bool> BodyAsync(string name, string[] chunks, BodyBuffer buffer, MemoryStream sink, Func<bool, ValueTask<FilterOutcome>> phase)
    {
        for (int i = 0; i < chunks.Length; i++)
        {
            buffer.Append(Encoding.UTF8.GetBytes(chunks[i]));
            var outcome = await Phase(name, phase(i == chunks.Length - 1));
            if (outcome.Kind == FilterOutcomeKind.BufferBody) continue;
            if (Ended(outcome)) return true;
            sink.Write(buffer.Span);
            buffer.Clear();
        }
        return false;
    }

    private bool Ended(FilterOutcome outcome)
    {
        if (outcome.Kind == FilterOutcomeKind.LocalResponse) Local = outcome.LocalResponse;
        return outcome.Kind is FilterOutcomeKind.LocalResponse or FilterOutcomeKind.Failed or FilterOutcomeKind.Closed;
    }

    private async Task<FilterOutcome> Phase(string name, ValueTask<FilterOutcome> pending)
    {
        var outcome = await pending.AsTask().WaitAsync(PhaseTimeout);
        Outcomes.Add((name, outcome));
        return outcome;
    }
}
