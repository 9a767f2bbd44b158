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

/// <summary><c>GET /</c> (node information and sanitized configuration) and the Admin API's JSON 404.</summary>
internal static class RootEndpoints
{
    public const string Mask = "******";

    public static void Map(IEndpointRouteBuilder endpoints)
    {
        endpoints.Map("/", ctx => Execute(ctx, Root(ctx)));
        // GET /status is the host's (Hosting/StatusEndpoint): one implementation for admin_listen and status_listen
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
            // the Kong release whose Admin API this is (decK reads it); Gatehouse's own release beside it
            ["version"] = GatehouseVersion.Kong,
            ["gatehouse_version"] = GatehouseVersion.Current,
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

}
