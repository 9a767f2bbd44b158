namespace Gatehouse.Config;

/// <summary>The steps that get spans (<c>tracing_instrumentations</c>).</summary>
[Flags]
public enum TracedSteps
{
    None = 0,
    Request = 1,
    Router = 2,
    Balancer = 4,
    PluginRewrite = 8,
    PluginAccess = 16,
    PluginHeaderFilter = 32,
    /// <summary>Ours: one span per Proxy-Wasm filter callback.</summary>
    WasmFilters = 64,
    /// <summary>Kong's <c>http_client</c>: one span per Proxy-Wasm <c>dispatch_http_call</c> made for a request.</summary>
    HttpClient = 128,
    /// <summary>Kong's <c>dns_query</c>: one span per service host name resolved for a request.</summary>
    DnsQuery = 256,
    /// <summary>Kong's <c>db_query</c>: one span per database query made for a request.</summary>
    DbQuery = 512,
    All = Request | Router | Balancer | PluginRewrite | PluginAccess | PluginHeaderFilter | WasmFilters | HttpClient | DnsQuery | DbQuery,
}

/// <summary>Kong's <c>tracing_instrumentations</c> values: <c>off</c> (Kong's default: the opentelemetry plugin only
/// propagates), <c>all</c>, or a list of <c>request</c>, <c>router</c>, <c>balancer</c>, <c>plugin_rewrite</c>,
/// <c>plugin_access</c>, <c>plugin_header_filter</c>, <c>http_client</c>, <c>dns_query</c>, <c>db_query</c> and
/// Gatehouse's <c>wasm_filters</c>.</summary>
public static class TracingInstrumentations
{
    public static TracedSteps Parse(IReadOnlyList<string> values)
    {
        if (values.Count == 0) throw new FormatException("must name at least one instrumentation, or off");
        if (values.Count == 1 && values[0] == "off") return TracedSteps.None;
        if (values.Count == 1 && values[0] == "all") return TracedSteps.All;
        var steps = TracedSteps.Request; // every other span is a child of the request's
        foreach (var value in values)
        {
            steps |= value switch
            {
                "request" => TracedSteps.Request,
                "router" => TracedSteps.Router,
                "balancer" => TracedSteps.Balancer,
                "plugin_rewrite" => TracedSteps.PluginRewrite,
                "plugin_access" => TracedSteps.PluginAccess,
                "plugin_header_filter" => TracedSteps.PluginHeaderFilter,
                "wasm_filters" => TracedSteps.WasmFilters,
                "http_client" => TracedSteps.HttpClient,
                "dns_query" => TracedSteps.DnsQuery,
                "db_query" => TracedSteps.DbQuery,
                "off" or "all" => throw new FormatException($"'{value}' cannot be combined with other values"),
                _ => throw new FormatException($"invalid tracing type: {value}"),
            };
        }
        return steps;
    }
}
