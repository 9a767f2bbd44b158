using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Gatehouse.Admin;

/// <summary>
/// <c>GET /endpoints</c> (Kong's <c>kong/api/routes/kong.lua</c>): the path templates this Admin API serves, with
/// Kong's <c>{param}</c> syntax, each once, sorted segment by segment (<c>/a</c>, <c>/a/z</c>, <c>/ab</c>). Read
/// from the routes actually mapped, so the list cannot drift from what answers.
/// </summary>
internal static class EndpointList
{
    public static void Map(IEndpointRouteBuilder endpoints)
    {
        var sources = endpoints.DataSources;
        endpoints.Map("/endpoints", ctx => (ctx.Request.Method is "GET" or "HEAD"
            ? AdminResponses.Json(new JsonObject { ["data"] = new JsonArray([.. Paths(sources).Select(p => (JsonNode?)p)]) })
            : AdminResponses.MethodNotAllowed()).ExecuteAsync(ctx));
    }

    private static IEnumerable<string> Paths(IEnumerable<EndpointDataSource> sources) =>
        sources.SelectMany(s => s.Endpoints).OfType<RouteEndpoint>()
            .Select(e => "/" + (e.RoutePattern.RawText ?? "").TrimStart('/'))
            .Where(p => !p.Contains("{*", StringComparison.Ordinal)) // the catch-all 404, not an endpoint
            .Distinct(StringComparer.Ordinal)
            .OrderBy(p => p.Replace('/', '\0'), StringComparer.Ordinal);
}
