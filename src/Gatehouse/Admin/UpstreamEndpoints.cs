using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Entities;
using Gatehouse.Entities.Schemas;
using Gatehouse.Proxy;
using Gatehouse.Store;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Admin;

/// <summary>
/// Kong 3.9's own endpoints for upstreams and targets (<c>kong/api/routes/upstreams.lua</c>), beside the generated ones:
/// a target is addressed under its upstream by id or by its <c>target</c> (<c>host:port</c>, unique only within the
/// upstream); <c>/targets/all</c>; the health endpoints, from the upstream as the proxy balances it now; and the
/// healthy/unhealthy overrides of the upstream's health checker (400 when the upstream has none).
/// </summary>
internal static class UpstreamEndpoints
{
    private const string TargetMethods = "DELETE, GET, HEAD, OPTIONS, PATCH, PUT";

    public static void Map(IEndpointRouteBuilder endpoints)
    {
        // before the generated /upstreams/{upstreams}/targets/{targets}, which would look the key up as an id only
        endpoints.Map("/upstreams/{upstreams}/targets/{targets}", Handler(TargetMethods, Target)).WithOrder(-1);
        endpoints.Map("/upstreams/{upstreams}/targets/all", Handler("GET, HEAD, OPTIONS", AllTargets)).WithOrder(-1);
        endpoints.Map("/upstreams/{upstreams}/health", Handler("GET, HEAD, OPTIONS", Health));
        endpoints.Map("/upstreams/{upstreams}/targets/{targets}/health", Handler("GET, HEAD, OPTIONS", TargetHealth));
        foreach (var state in (string[])["healthy", "unhealthy"])
        {
            endpoints.Map($"/upstreams/{{upstreams}}/targets/{{targets}}/{state}", Handler("OPTIONS, PUT, POST", SetHealth));
            endpoints.Map($"/upstreams/{{upstreams}}/targets/{{targets}}/{{address}}/{state}", Handler("OPTIONS, PUT, POST", SetHealth));
        }
    }

    private static RequestDelegate Handler(string methods, Func<HttpContext, Task<IResult>> handler) => async ctx =>
    {
        if (HttpMethods.IsOptions(ctx.Request.Method))
        {
            ctx.Response.StatusCode = StatusCodes.Status204NoContent;
            ctx.Response.Headers.Allow = methods;
            ctx.Response.Headers.AccessControlAllowMethods = methods;
            ctx.Response.Headers.AccessControlAllowHeaders = "Content-Type";
            return;
        }
        var method = ctx.Request.Method == "HEAD" ? "GET" : ctx.Request.Method;
        var result = methods.Split(", ").Contains(method) ? await handler(ctx) : AdminResponses.MethodNotAllowed();
        await result.ExecuteAsync(ctx);
    };

    private static string Param(HttpContext ctx, string name) => ctx.Request.RouteValues[name]?.ToString() ?? "";

    private static EntitySchema Upstreams(EntityDao dao) => dao.Registry.ByName("upstreams")!;

    private static EntitySchema Targets(EntityDao dao) => dao.Registry.ByName("targets")!;

    /// <summary>The upstream of the URL and the target under it (by id, or the newest with that <c>target</c>); null
    /// when either is missing (Kong: 404 "Not found").</summary>
    private static async Task<(JsonObject Upstream, JsonObject Target)?> FindTarget(HttpContext ctx, EntityDao dao)
    {
        var upstream = await dao.SelectAsync(Upstreams(dao), Param(ctx, "upstreams"), ctx.RequestAborted);
        if (upstream is null) return null;
        var upstreamId = EntityJson.Guid(upstream, "id");
        var key = Uri.UnescapeDataString(Param(ctx, "targets"));
        JsonObject? target;
        if (Guid.TryParse(key, out var id)) target = await dao.Store.SelectAsync(Targets(dao), id, ctx.RequestAborted);
        else
            target = (await TargetsOf(dao, upstreamId, ctx.RequestAborted))
                .LastOrDefault(t => EntityJson.String(t, "target") == key);
        if (target is null || EntityJson.ForeignId(target, "upstream") != upstreamId) return null;
        return (upstream, target);
    }

    /// <summary>An upstream's targets in Kong's order (oldest first, by creation then id).</summary>
    private static async Task<IReadOnlyList<JsonObject>> TargetsOf(EntityDao dao, Guid upstreamId, CancellationToken ct) =>
        [.. (await dao.Store.ListAllAsync(Targets(dao), ct))
            .Where(t => EntityJson.ForeignId(t, "upstream") == upstreamId)
            .OrderBy(t => EntityJson.TryNumber(t["created_at"], out var c) ? c : 0).ThenBy(t => EntityJson.String(t, "id"), StringComparer.Ordinal)];

    private static async Task<IResult> Target(HttpContext ctx)
    {
        var dao = ctx.RequestServices.GetRequiredService<EntityDao>();
        var method = ctx.Request.Method;
        if (dao.ReadOnly && method is "PUT" or "PATCH" or "DELETE")
            return AdminResponses.Error(DbError.OperationUnsupported(method == "DELETE" ? "delete" : "update", "targets"));
        if (await FindTarget(ctx, dao) is not var (upstream, target)) return AdminResponses.NotFound();
        var id = EntityJson.Guid(target, "id").ToString();
        switch (method)
        {
            case "GET" or "HEAD":
                return AdminResponses.Json(target);
            case "DELETE":
                var deleted = await dao.DeleteAsync(Targets(dao), id, ctx.RequestAborted);
                return deleted.Error is { } e ? AdminResponses.Error(e) : AdminResponses.NoContent();
        }
        // Kong: PUT and PATCH both update the existing target (update_target_cb)
        var body = await AdminBodyReader.ReadAsync(ctx.Request, Targets(dao), ctx.RequestAborted);
        if (body.Error is not null) return body.Error;
        body.Value!["upstream"] = new JsonObject { ["id"] = upstream["id"]?.DeepClone() };
        var updated = await dao.UpdateAsync(Targets(dao), id, body.Value!, ctx.RequestAborted);
        return updated.Error is { } error ? AdminResponses.Error(error) : AdminResponses.Json(updated.Entity!);
    }

    /// <summary>Kong's "raw" list, every target of the upstream; Gatehouse keeps no history of replaced targets, so
    /// it lists what <c>/targets</c> lists.</summary>
    private static async Task<IResult> AllTargets(HttpContext ctx)
    {
        var dao = ctx.RequestServices.GetRequiredService<EntityDao>();
        var upstream = await dao.SelectAsync(Upstreams(dao), Param(ctx, "upstreams"), ctx.RequestAborted);
        if (upstream is null) return AdminResponses.NotFound();
        var scope = new ForeignFilter("upstream", EntityJson.Guid(upstream, "id"));
        if (AdminPaging.TryParse(ctx.Request.Query, ctx.Request.QueryString.Value, scope, out var query) is { } error)
            return AdminResponses.Error(error);
        var page = await dao.Store.PageAsync(Targets(dao), query, ctx.RequestAborted);
        return AdminResponses.Json(AdminPaging.Response(page.Items, page.Last, ctx.Request.Path, ctx.Request.Query, nested: true));
    }

    private static async Task<IResult> Health(HttpContext ctx)
    {
        var dao = ctx.RequestServices.GetRequiredService<EntityDao>();
        var upstream = await dao.SelectAsync(Upstreams(dao), Param(ctx, "upstreams"), ctx.RequestAborted);
        if (upstream is null) return AdminResponses.NotFound();
        var nodeId = ctx.RequestServices.GetService<AdminNodeInfo>()?.NodeId.ToString();
        var name = EntityJson.String(upstream, "name") ?? "";
        var balanced = ctx.RequestServices.GetService<ProxySnapshotProvider>()?.Current.Upstreams.GetValueOrDefault(name);
        if (ctx.Request.Query["balancer_health"].ToString() == "1")
            return AdminResponses.Json(new JsonObject
            {
                ["data"] = BalancerHealth(upstream, balanced),
                ["next"] = null,
                ["node_id"] = nodeId,
            });
        var upstreamId = EntityJson.Guid(upstream, "id");
        var data = new JsonArray();
        // Kong lists the newest target first
        foreach (var row in (await TargetsOf(dao, upstreamId, ctx.RequestAborted)).Reverse()) data.Add((JsonNode)HealthEntry(row, balanced));
        return AdminResponses.Json(new JsonObject { ["data"] = data, ["next"] = null, ["node_id"] = nodeId });
    }

    /// <summary><c>GET /upstreams/{u}/targets/{t}/health</c> (Gatehouse's; Kong 3.9 lists health only per upstream):
    /// the target's entry of <c>/upstreams/{u}/health</c>, with the node id.</summary>
    private static async Task<IResult> TargetHealth(HttpContext ctx)
    {
        var dao = ctx.RequestServices.GetRequiredService<EntityDao>();
        if (await FindTarget(ctx, dao) is not var (upstream, row)) return AdminResponses.NotFound();
        var name = EntityJson.String(upstream, "name") ?? "";
        var balanced = ctx.RequestServices.GetService<ProxySnapshotProvider>()?.Current.Upstreams.GetValueOrDefault(name);
        var entry = HealthEntry(row, balanced);
        entry["node_id"] = ctx.RequestServices.GetService<AdminNodeInfo>()?.NodeId.ToString();
        return AdminResponses.Json(entry);
    }

    /// <summary>A target with its <c>health</c> word and its addresses as the proxy balances them now.</summary>
    private static JsonObject HealthEntry(JsonObject row, BalancedUpstream? balanced)
    {
        var target = row.DeepClone().AsObject();
        var resolved = balanced?.Targets.FirstOrDefault(t => t.Model.Id == EntityJson.Guid(row, "id"));
        // a target the balancer could not resolve has no address: Kong's DNS_ERROR
        target["health"] = resolved is null ? UpstreamHealthView.DnsError : UpstreamHealthView.OfTarget(balanced!, resolved);
        target["data"] = resolved is null ? null : TargetStatus(balanced!, resolved, healthWords: true);
        return target;
    }

    /// <summary>Kong's <c>getTargetStatus</c>: host, port, dns source, weights (unavailable: the unhealthy addresses'
    /// weight) and each address, with its <c>health</c> word (the health list) or its <c>healthy</c> flag
    /// (<c>?balancer_health=1</c>).</summary>
    private static JsonObject TargetStatus(BalancedUpstream upstream, ResolvedTarget target, bool healthWords)
    {
        var total = target.Peers.Sum(p => (long)p.Weight);
        var unavailable = target.Peers.Where(p => !UpstreamHealthView.IsAvailable(upstream, p)).Sum(p => (long)p.Weight);
        return new JsonObject
        {
            ["host"] = target.Host,
            ["port"] = target.Port,
            ["dns"] = target.DnsSource,
            ["nodeWeight"] = target.Model.Weight,
            ["weight"] = new JsonObject { ["total"] = total, ["unavailable"] = unavailable, ["available"] = total - unavailable },
            ["addresses"] = new JsonArray([.. target.Peers.Select(p => (JsonNode?)new JsonObject
            {
                ["ip"] = p.Address.ToString(),
                ["port"] = p.Port,
                ["weight"] = p.Weight,
                [healthWords ? "health" : "healthy"] = healthWords
                    ? UpstreamHealthView.OfAddress(upstream, p) : UpstreamHealthView.IsAvailable(upstream, p),
            })]),
        };
    }

    /// <summary><c>?balancer_health=1</c>: Kong's <c>get_balancer_health</c>. <c>balancer_health</c> is the
    /// threshold rule over the available weight; <c>health</c> is that too when the upstream has a health checker,
    /// HEALTHCHECKS_OFF otherwise.</summary>
    private static JsonObject BalancerHealth(JsonObject upstream, BalancedUpstream? balanced)
    {
        var targets = balanced?.Targets ?? [];
        var peers = targets.SelectMany(t => t.Peers).ToArray();
        var total = peers.Sum(p => (long)p.Weight);
        var unavailable = balanced is null ? 0 : peers.Where(p => !UpstreamHealthView.IsAvailable(balanced, p)).Sum(p => (long)p.Weight);
        var threshold = balanced?.Upstream.HealthThreshold ?? 0;
        var isHealthy = total > 0 && (total - unavailable) * 100.0 / total > threshold;
        var healthy = isHealthy ? UpstreamHealthView.Healthy : UpstreamHealthView.Unhealthy;
        return new JsonObject
        {
            ["health"] = balanced?.Checker is null ? UpstreamHealthView.Off : healthy,
            ["balancer_health"] = healthy,
            ["id"] = upstream["id"]?.DeepClone(),
            ["details"] = new JsonObject
            {
                ["healthy"] = isHealthy,
                ["weight"] = new JsonObject { ["total"] = total, ["unavailable"] = unavailable, ["available"] = total - unavailable },
                ["hosts"] = new JsonArray([.. targets.Select(t => (JsonNode?)TargetStatus(balanced!, t, healthWords: false))]),
            },
        };
    }

    /// <summary>PUT .../healthy|unhealthy: sets the health checker's state of every address of the target, or of the
    /// one <c>{address}</c> (<c>ip[:port]</c>, port 8000 by default, as Kong), and answers 204. Kong answers 400
    /// "no healthchecker found for &lt;upstream&gt;" when the upstream has none (health checks off), and 400 when the
    /// checker does not know the address.</summary>
    private static async Task<IResult> SetHealth(HttpContext ctx)
    {
        var dao = ctx.RequestServices.GetRequiredService<EntityDao>();
        if (await FindTarget(ctx, dao) is not var (upstream, target)) return AdminResponses.NotFound();
        var name = EntityJson.String(upstream, "name") ?? "";
        var healthy = ctx.Request.Path.Value!.EndsWith("/healthy", StringComparison.Ordinal);
        var balanced = ctx.RequestServices.GetService<ProxySnapshotProvider>()?.Current.Upstreams.GetValueOrDefault(name);
        if (balanced?.Checker is not { } checker)
            return AdminResponses.Message("no healthchecker found for " + name, StatusCodes.Status400BadRequest);
        var targetId = EntityJson.Guid(target, "id").ToString();
        if (ctx.Request.RouteValues["address"] is not string addressParam)
            return checker.SetTargetHealthy(targetId, healthy)
                ? AdminResponses.NoContent()
                : AdminResponses.Message("target not found", StatusCodes.Status400BadRequest);
        var address = TargetAddress.Parse(Uri.UnescapeDataString(addressParam));
        var peer = address is null || address.Kind == AddressKind.Name ? null
            : checker.Snapshot().Select(s => s.Peer).FirstOrDefault(p => p.TargetId == targetId
                && p.Address.Equals(System.Net.IPAddress.Parse(address.Host.Trim('[', ']')))
                && p.Port == (address.Port ?? TargetAddress.DefaultTargetPort));
        return peer is not null && checker.SetHealthy(peer, healthy)
            ? AdminResponses.NoContent()
            : AdminResponses.Message("target not found", StatusCodes.Status400BadRequest);
    }
}
