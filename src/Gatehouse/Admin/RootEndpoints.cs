using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Entities;
using Gatehouse.Store;
using Gatehouse.Store.Declarative;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Admin;

/// <summary><c>GET /</c> (node information and sanitized configuration) and <c>GET /status</c>.</summary>
internal static class RootEndpoints
{
    public const string Mask = "******";

    public static void Map(IEndpointRouteBuilder endpoints)
    {
        endpoints.Map("/", ctx => Execute(ctx, Root(ctx)));
        endpoints.Map("/status", async ctx => await Execute(ctx, await Status(ctx)));
        // Kong answers every unknown Admin API path with its JSON 404; a catch-all has the lowest precedence.
        endpoints.Map("/{**path}", ctx => Execute(ctx, AdminResponses.NotFound()));
    }

    private static Task Execute(HttpContext ctx, IResult result) => result.ExecuteAsync(ctx);

    private static IResult Root(HttpContext ctx)
    {
        if (ctx.Request.Method is not ("GET" or "HEAD")) return AdminResponses.MethodNotAllowed();
        var options = ctx.RequestServices.GetRequiredService<GatehouseOptions>();
        var node = ctx.RequestServices.GetRequiredService<AdminNodeInfo>();
        var configuration = new JsonObject();
        foreach (var (key, value) in options.Raw.OrderBy(p => p.Key, StringComparer.Ordinal))
            configuration[key] = SensitiveConfKeys.IsSensitive(key) ? Mask : value;
        configuration["database"] = options.Database.ToString().ToLowerInvariant();
        configuration["wasm"] = options.Wasm;
        configuration["wasm_modules_parsed"] = WasmAdminEndpoints.ModulesParsed(ctx.RequestServices);
        return AdminResponses.Json(new JsonObject
        {
            ["version"] = node.Version,
            ["edition"] = "community",
            ["hostname"] = node.Hostname,
            ["node_id"] = node.NodeId.ToString(),
            ["tagline"] = "Welcome to gatehouse",
            ["configuration"] = configuration,
            ["plugins"] = new JsonObject
            {
                ["available_on_server"] = PluginEndpoints.AvailableOnServer(ctx.RequestServices.GetService<Plugins.PluginCatalog>() ?? Plugins.PluginCatalog.Bundled,
                    ctx.RequestServices.GetService<Wasm.WasmFilterCatalog>()),
                ["enabled_in_cluster"] = PluginEndpoints.EnabledInCluster(ctx.RequestServices.GetRequiredService<Model.GatewayConfigPublisher>().Current),
            },
            ["pids"] = new JsonObject { ["master"] = Environment.ProcessId, ["workers"] = new JsonArray(Environment.ProcessId) },
        });
    }

    private static async Task<IResult> Status(HttpContext ctx)
    {
        if (ctx.Request.Method is not ("GET" or "HEAD")) return AdminResponses.MethodNotAllowed();
        var services = ctx.RequestServices;
        var store = services.GetRequiredService<IEntityStore>();
        var registry = services.GetRequiredService<EntityRegistry>();
        bool reachable;
        try
        {
            await store.PageAsync(registry.Schemas[0], new PageQuery(1), ctx.RequestAborted);
            reachable = true;
        }
        catch (Microsoft.Data.Sqlite.SqliteException)
        {
            reachable = false;
        }
        var s = services.GetService<IServerStatusSource>()?.Snapshot() ?? new ServerStatus(0, 0, 0, 0, 0, 0, 0);
        var body = new JsonObject
        {
            ["database"] = new JsonObject { ["reachable"] = reachable },
            ["server"] = new JsonObject
            {
                ["connections_accepted"] = s.ConnectionsAccepted,
                ["connections_active"] = s.ConnectionsActive,
                ["connections_handled"] = s.ConnectionsHandled,
                ["connections_reading"] = s.ConnectionsReading,
                ["connections_waiting"] = s.ConnectionsWaiting,
                ["connections_writing"] = s.ConnectionsWriting,
                ["total_requests"] = s.TotalRequests,
            },
            ["memory"] = new JsonObject
            {
                ["workers_lua_vms"] = new JsonArray(new JsonObject
                {
                    ["pid"] = Environment.ProcessId,
                    ["http_allocated_gc"] = $"{GC.GetTotalMemory(false) / (1024.0 * 1024.0):0.00} MiB",
                }),
                ["lua_shared_dicts"] = new JsonObject(),
            },
        };
        if (services.GetRequiredService<GatehouseOptions>().Database == DatabaseKind.Off)
            body["configuration_hash"] = services.GetRequiredService<DeclarativeConfigService>().ConfigurationHash;
        return AdminResponses.Json(body);
    }
}
