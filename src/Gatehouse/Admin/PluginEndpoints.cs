using System.Text.Json.Nodes;
using Gatehouse.Entities;
using Gatehouse.Entities.Schemas;
using Gatehouse.Plugins;
using Gatehouse.Proxy;
using Gatehouse.Proxy.Pipeline;
using Gatehouse.Store;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Admin;

/// <summary>The plugin endpoints the entity generator does not produce: <c>/plugins/enabled</c>,
/// <c>/schemas/plugins/{name}</c>, and (beyond Kong) <c>/routes/{route}/plan</c>, the compiled phase plan.</summary>
internal static class PluginEndpoints
{
    public static void Map(IEndpointRouteBuilder endpoints)
    {
        endpoints.Map("/plugins/enabled", ctx => Get(ctx, () => Enabled(ctx)));
        endpoints.Map("/schemas/plugins/{name}", ctx => Get(ctx, () => PluginSchema(ctx)));
        endpoints.Map("/routes/{routes}/plan", async ctx =>
            await (ctx.Request.Method is "GET" or "HEAD" ? await Plan(ctx) : AdminResponses.MethodNotAllowed()).ExecuteAsync(ctx));
    }

    private static Task Get(HttpContext ctx, Func<IResult> handler) =>
        (ctx.Request.Method is "GET" or "HEAD" ? handler() : AdminResponses.MethodNotAllowed()).ExecuteAsync(ctx);

    private static PluginCatalog Catalog(HttpContext ctx) => ctx.RequestServices.GetService<PluginCatalog>() ?? PluginCatalog.Bundled;

    private static Wasm.WasmFilterCatalog Filters(HttpContext ctx) =>
        ctx.RequestServices.GetService<Wasm.WasmFilterCatalog>() ?? Wasm.WasmFilterCatalog.Off;

    /// <summary>Kong 3.9 merges the enabled filters into <c>loaded_plugins</c>, so they are listed after the plugins.</summary>
    private static IResult Enabled(HttpContext ctx) =>
        AdminResponses.Json(new JsonObject
        {
            ["enabled_plugins"] = new JsonArray([.. Catalog(ctx).All.Select(p => p.Name).Concat(Filters(ctx).Names).Select(n => (JsonNode?)n)]),
        });

    /// <summary><c>plugins.available_on_server</c> of <c>GET /</c>: name → version and priority; each enabled
    /// filter is a plugin too (Kong 3.9 §2.4: version 0.1.0, priority 0).</summary>
    public static JsonObject AvailableOnServer(PluginCatalog catalog, Wasm.WasmFilterCatalog? filters = null)
    {
        var entries = catalog.All.Select(p => (p.Name, p.Version, p.Priority))
            .Concat((filters ?? Wasm.WasmFilterCatalog.Off).Names.Select(n => (n, Wasm.FilterPluginSchema.Version, Wasm.FilterPluginSchema.Priority)));
        var result = new JsonObject();
        foreach (var (name, version, priority) in entries.OrderBy(e => e.Item1, StringComparer.Ordinal))
            result[name] = new JsonObject { ["version"] = version, ["priority"] = priority };
        return result;
    }

    /// <summary><c>plugins.enabled_in_cluster</c> of <c>GET /</c>: names of the plugins configured (from the
    /// published configuration, so this node's view).</summary>
    public static JsonArray EnabledInCluster(Model.GatewayConfig config) =>
        new([.. config.Plugins.Select(p => p.Name).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).Select(n => (JsonNode?)n)]);

    private static IResult PluginSchema(HttpContext ctx)
    {
        var name = ctx.Request.RouteValues["name"]?.ToString() ?? "";
        if (Catalog(ctx).Find(name) is not { } plugin)
            return Filters(ctx).ByName(name) is not null ? AdminResponses.Json(SchemaDump.ToJson(Wasm.FilterPluginSchema.SubschemaOf(name)))
                : AdminResponses.Message($"No plugin named '{name}'", 404);
        var schema = new EntitySchema
        {
            Name = plugin.Name,
            SingularName = plugin.Name,
            EndpointKey = null,
            Fields =
            [
                Typedefs.Foreign("consumer", "consumers"),
                Typedefs.Foreign("service", "services"),
                Typedefs.Foreign("route", "routes"),
                new FieldDefinition("protocols", FieldType.Set)
                {
                    Required = true, Default = new JsonArray([.. plugin.Protocols.Select(p => (JsonNode?)p)]),
                    Elements = Typedefs.Protocol("protocol"),
                },
                plugin.ConfigField(),
            ],
        };
        return AdminResponses.Json(SchemaDump.ToJson(schema));
    }

    private static async Task<IResult> Plan(HttpContext ctx)
    {
        var dao = ctx.RequestServices.GetRequiredService<EntityDao>();
        var row = await dao.SelectAsync(RouteEntity.Schema, ctx.Request.RouteValues["routes"]?.ToString() ?? "", ctx.RequestAborted);
        if (row is null) return AdminResponses.NotFound();
        if (ctx.RequestServices.GetService<ProxySnapshotProvider>() is not { } snapshots)
            return AdminResponses.Message("no proxy on this node", 404);
        var route = RouteEntity.ToModel(row);
        var pipeline = snapshots.Current.Pipeline;
        var plan = pipeline.For(route);
        return AdminResponses.Json(new JsonObject
        {
            ["route"] = new JsonObject { ["id"] = route.Id.ToString(), ["name"] = route.Name },
            ["config_version"] = snapshots.Current.Config.Version,
            ["phases"] = new JsonObject
            {
                ["rewrite"] = Handlers(pipeline.Global.Rewrite),
                ["access"] = Handlers(plan.Access),
                ["request_body"] = Handlers(plan.RequestBody),
                ["response_headers"] = Handlers(plan.ResponseHeaders),
                ["response_body"] = Handlers(plan.ResponseBody),
                ["log"] = Handlers(plan.Log),
            },
        });
    }

    private static JsonArray Handlers(IEnumerable<IPhaseHandler> handlers) =>
        new([.. handlers.Select(h => (JsonNode?)new JsonObject { ["name"] = h.Name, ["kind"] = Kind(h) })]);

    private static string Kind(IPhaseHandler handler) => handler.Kind;
}
