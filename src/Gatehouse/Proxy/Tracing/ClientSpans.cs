using System.Diagnostics;
using Gatehouse.Config;

namespace Gatehouse.Proxy.Tracing;

/// <summary>
/// The spans of what a request asks of other systems, with Kong 3.9's names and attributes:
/// <c>kong.database.query</c> (<c>db_query</c>), <c>kong.internal.request</c> (<c>http_client</c>: a Proxy-Wasm
/// <c>dispatch_http_call</c>) and <c>kong.dns</c> (<c>dns_query</c>). Each is a child of the step running when it
/// starts (a plugin's or a filter callback's span, as Kong parents under the active span), else of the request's.
/// </summary>
public static class ClientSpans
{
    /// <summary>A <c>kong.database.query</c> span, or null when <c>db_query</c> is not traced.</summary>
    public static TraceSpan? OpenDbQuery(RequestTrace? trace, string system, string statement)
    {
        if (trace is null || !trace.Traces(TracedSteps.DbQuery)) return null;
        var span = trace.Open("kong.database.query", trace.Current);
        span.Set("db.system", system);
        span.Set("db.statement", statement);
        return span;
    }

    /// <summary>A <c>kong.internal.request</c> (CLIENT) span, or null when <c>http_client</c> is not traced. Opened
    /// on the thread the request waits on (the filter callback that dispatches).</summary>
    public static TraceSpan? OpenHttpCall(RequestTrace? trace, string method, string url, string? userAgent)
    {
        if (trace is null || !trace.Traces(TracedSteps.HttpClient)) return null;
        var span = trace.Open("kong.internal.request", trace.Current, ActivityKind.Client);
        span.Set("http.method", method);
        span.Set("http.url", url);
        span.Set("http.flavor", "1.1");
        if (userAgent is not null) span.Set("http.user_agent", userAgent);
        return span;
    }

    /// <summary>Ends an HTTP call's span, possibly on another thread than the request's: the attributes first,
    /// then <see cref="TraceSpan.End"/> (published last; the exporter skips a span not ended yet).</summary>
    public static void EndHttpCall(TraceSpan span, int? status, string? error)
    {
        if (status is { } code) span.Set("http.status_code", (long)code);
        if (error is not null) span.Error = error;
        RequestTrace.Close(span);
    }

    /// <summary>After an upstream try: the <c>kong.dns</c> span of the lookup its new connection made, if any.</summary>
    public static void AfterTry(RequestTrace? trace)
    {
        if (trace?.DnsProbe?.Take() is { } lookup) AddDnsLookup(trace, lookup);
    }

    /// <summary>A finished <c>kong.dns</c> (CLIENT) span for one lookup, made on the request's thread from what the
    /// connection recorded (<see cref="DnsLookupProbe"/>).</summary>
    public static void AddDnsLookup(RequestTrace trace, DnsLookup lookup)
    {
        var span = trace.Open("kong.dns", null, ActivityKind.Client);
        span.Start = lookup.Start;
        span.Set("dns.record.domain", lookup.Domain);
        span.Set("dns.record.port", (long)lookup.Port);
        if (lookup.Address is not null) span.Set("dns.record.ip", lookup.Address);
        else span.Error = lookup.Error ?? "name resolution failed";
        span.End = lookup.End;
    }

    /// <summary>Closes a span another step opened, noting a failure.</summary>
    public static void End(TraceSpan? span, string? error = null)
    {
        if (span is null) return;
        if (error is not null) span.Error = error;
        RequestTrace.Close(span);
    }
}

/// <summary>One name resolution, as the connection made it.</summary>
public sealed record DnsLookup(string Domain, int Port, string? Address, string? Error, DateTime Start, DateTime End);

/// <summary>
/// Handed to the upstream connection of one try (in the request message's options) when <c>dns_query</c> is traced:
/// a new connection to a host name resolves it itself and records the lookup here; the request reads it after the
/// try (<see cref="Take"/>). A try on a pooled connection resolves nothing (Kong's DNS cache hit).
/// </summary>
public sealed class DnsLookupProbe
{
    internal static readonly HttpRequestOptionsKey<DnsLookupProbe> Key = new("gatehouse.dns-probe");
    private DnsLookup? _lookup;

    public void Record(DnsLookup lookup) => Volatile.Write(ref _lookup, lookup);

    public DnsLookup? Take() => Interlocked.Exchange(ref _lookup, null);
}
