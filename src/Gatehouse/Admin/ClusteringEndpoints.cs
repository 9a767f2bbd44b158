using System.Data.Common;
using System.Text.Json.Nodes;
using Gatehouse.Store;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Admin;

/// <summary>
/// <c>GET /clustering/status</c>, in the shape of Kong's hybrid-mode endpoint (kong/api/routes/clustering.lua: an object
/// keyed by node id, with <c>config_hash</c>, <c>hostname</c> and <c>last_seen</c> in epoch seconds), listing the nodes
/// that share this node's database (traditional mode has no control plane; every node answers). Gatehouse adds
/// <c>version</c>, <c>config_version</c> (local to each node) and <c>stale</c>; it has no <c>ip</c>.
/// </summary>
internal static class ClusteringEndpoints
{
    public static void Map(IEndpointRouteBuilder endpoints) =>
        endpoints.Map("/clustering/status", async ctx => await (ctx.Request.Method is "GET" or "HEAD"
            ? await Status(ctx) : AdminResponses.MethodNotAllowed()).ExecuteAsync(ctx));

    private static async Task<IResult> Status(HttpContext ctx)
    {
        IReadOnlyList<ClusterNode> nodes;
        try { nodes = await ctx.RequestServices.GetRequiredService<IClusterNodes>().ListAsync(ctx.RequestAborted); }
        catch (Exception e) when (e is DbException or TimeoutException)
        {
            return AdminResponses.Message("the database could not be reached: " + e.Message, StatusCodes.Status503ServiceUnavailable);
        }
        var body = new JsonObject();
        foreach (var node in nodes)
            body[node.Id.ToString("D")] = new JsonObject
            {
                ["config_hash"] = node.ConfigHash,
                ["hostname"] = node.Hostname,
                ["last_seen"] = node.LastSeen.ToUnixTimeSeconds(),
                ["version"] = node.Version,
                ["config_version"] = node.ConfigVersion,
                ["stale"] = node.Stale,
            };
        return AdminResponses.Json(body);
    }
}
