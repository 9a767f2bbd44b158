using System.Text.Json.Nodes;
using Gatehouse.Entities;
using Gatehouse.Entities.Schemas;
using Gatehouse.Store;
using Gatehouse.Wasm;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Admin;

/// <summary>
/// Kong's wasm Admin API beyond the generated filter_chains endpoints (§2): <c>/routes/{r}/filters/{enabled|
/// disabled|all}</c>, <c>/schemas/filters/{name}</c>, our <c>GET /filters</c>, and the wasm-off guard (§1.5)
/// that answers 400 on every filter-chain path (mapped with a lower order so it wins over the generated ones).
/// </summary>
internal static class WasmAdminEndpoints
{
    private const string OffMessage = "this endpoint is only available when wasm is enabled";

    public static void Map(IEndpointRouteBuilder endpoints)
    {
        var catalog = endpoints.ServiceProvider.GetService<WasmFilterCatalog>() ?? WasmFilterCatalog.Off;
        foreach (var which in new[] { "all", "enabled", "disabled" }) // Kong's three routes (GET /endpoints lists each)
            endpoints.Map($"/routes/{{routes}}/filters/{which}", async ctx => await (await RouteFilters(ctx, catalog, which)).ExecuteAsync(ctx)).WithOrder(-1);
        endpoints.Map("/schemas/filters/{name}", ctx => FilterSchema(ctx, catalog).ExecuteAsync(ctx)).WithOrder(-1);
        endpoints.Map("/filters", ctx => Filters(ctx, catalog).ExecuteAsync(ctx)).WithOrder(-1);
        if (catalog.WasmOn) return;
        string[] guarded =
        [
            "/filter-chains", "/filter-chains/{filter_chains}", "/filter-chains/{filter_chains}/route", "/filter-chains/{filter_chains}/service",
            "/routes/{routes}/filter-chains", "/routes/{routes}/filter-chains/{filter_chains}",
            "/services/{services}/filter-chains", "/services/{services}/filter-chains/{filter_chains}",
        ];
        foreach (var path in guarded)
            endpoints.Map(path, ctx => AdminResponses.Message(OffMessage, 400).ExecuteAsync(ctx)).WithOrder(-1);
    }

    /// <summary>Kong's <c>configuration.wasm_modules_parsed</c>: <c>[{name, path}]</c> sorted by name.</summary>
    public static JsonArray ModulesParsed(IServiceProvider services) =>
        [.. (services.GetService<WasmFilterCatalog>()?.Filters ?? []).Select(f => (JsonNode)new JsonObject { ["name"] = f.Name, ["path"] = f.Path })];

    private static async Task<IResult> RouteFilters(HttpContext ctx, WasmFilterCatalog catalog, string which)
    {
        if (ctx.Request.Method is not ("GET" or "HEAD")) return AdminResponses.MethodNotAllowed();
        if (!catalog.WasmOn) return AdminResponses.Message(OffMessage, 400);
        var dao = ctx.RequestServices.GetRequiredService<EntityDao>();
        var registry = dao.Registry;
        var ct = ctx.RequestAborted;
        if (await dao.SelectAsync(registry.ByName("routes")!, ctx.Request.RouteValues["routes"]?.ToString() ?? "", ct) is not { } route)
            return AdminResponses.NotFound();
        var chains = registry.ByName(FilterChainEntity.Name)!;
        var list = new JsonArray();
        if (EntityJson.ForeignId(route, "service") is { } serviceId)
            await AddChain(list, dao, chains, new ForeignFilter("service", serviceId), "service", which, ct);
        await AddChain(list, dao, chains, new ForeignFilter("route", EntityJson.Guid(route, "id")), "route", which, ct);
        return AdminResponses.Json(new JsonObject { ["filters"] = list });
    }

    private static async Task AddChain(JsonArray list, EntityDao dao, EntitySchema chains, ForeignFilter scope, string from, string which, CancellationToken ct)
    {
        var page = await dao.Store.PageAsync(chains, new PageQuery(1, Foreign: scope), ct);
        foreach (var chain in page.Items)
        {
            var chainEnabled = EntityJson.Bool(chain, "enabled") ?? true;
            foreach (var f in (chain["filters"] as JsonArray ?? []).OfType<JsonObject>())
            {
                var enabled = chainEnabled && (EntityJson.Bool(f, "enabled") ?? true);
                if (which == "enabled" && !enabled || which == "disabled" && enabled) continue;
                list.Add((JsonNode)new JsonObject
                {
                    ["name"] = f["name"]?.DeepClone(),
                    ["config"] = f["config"]?.DeepClone(),
                    ["from"] = from,
                    ["enabled"] = enabled,
                    ["filter_chain"] = new JsonObject { ["name"] = chain["name"]?.DeepClone(), ["id"] = chain["id"]?.DeepClone() },
                });
            }
        }
    }

    private static IResult FilterSchema(HttpContext ctx, WasmFilterCatalog catalog)
    {
        if (ctx.Request.Method is not ("GET" or "HEAD")) return AdminResponses.MethodNotAllowed();
        var name = ctx.Request.RouteValues["name"]?.ToString() ?? "";
        return catalog.ByName(name) is { } filter
            ? AdminResponses.Json(filter.ConfigSchemaJson.DeepClone())
            : AdminResponses.Message($"Filter '{name}' not found", 404);
    }

    private static IResult Filters(HttpContext ctx, WasmFilterCatalog catalog)
    {
        if (ctx.Request.Method is not ("GET" or "HEAD")) return AdminResponses.MethodNotAllowed();
        var runtime = ctx.RequestServices.GetService<WasmFilterRuntime>();
        var stats = runtime?.Host?.FilterStats.All().ToDictionary(s => s.Filter, s => s.Stats, StringComparer.Ordinal);
        var vms = (runtime?.Plugins?.LinearMemoryByFilter() ?? []).ToDictionary(m => m.Filter, StringComparer.Ordinal);
        var data = new JsonArray();
        foreach (var f in catalog.Filters)
        {
            var module = runtime?.Modules.GetValueOrDefault(f.Name);
            var item = new JsonObject
            {
                ["name"] = f.Name,
                ["path"] = f.Path,
                ["abi_version"] = module?.AbiVersion.ToString(),
                ["size"] = module?.Size ?? new FileInfo(f.Path).Length,
                ["hash"] = module?.Hash,
                ["metadata"] = f.Metadata?.DeepClone(),
                ["status"] = module is null ? "not loaded" : runtime!.ReloadError(f.Name) is null ? "loaded" : "reload failed",
                ["error"] = runtime?.ReloadError(f.Name),
            };
            if (module is not null) AddRuntimeFigures(item, f.Name, runtime!, stats!, vms);
            data.Add((JsonNode)item);
        }
        return AdminResponses.Json(new JsonObject { ["enabled"] = catalog.Enabled, ["status"] = catalog.DisabledReason ?? "wasm support is enabled", ["data"] = data });
    }

    /// <summary>Gatehouse's figures of a loaded filter since start, the ones <c>/metrics</c> exports (all routes):
    /// VMs and their linear memory now, traps, deadline hits, each guest callback's count and total duration; and
    /// its recent hot-reload attempts.</summary>
    private static void AddRuntimeFigures(JsonObject item, string filter, WasmFilterRuntime runtime,
        Dictionary<string, ProxyWasm.Runtime.FilterStats> stats, Dictionary<string, (string Filter, int Vms, long Bytes)> vms)
    {
        var memory = vms.GetValueOrDefault(filter);
        item["vms"] = memory.Vms;
        item["linear_memory_bytes"] = memory.Bytes;
        var s = stats.GetValueOrDefault(filter);
        item["traps"] = s?.Traps ?? 0;
        item["deadline_hits"] = s?.DeadlineHits ?? 0;
        var callbacks = new JsonArray();
        foreach (var (callback, _, count, sumMs) in s?.Callbacks() ?? [])
            callbacks.Add((JsonNode)new JsonObject { ["callback"] = callback, ["count"] = count, ["sum_ms"] = Math.Round(sumMs, 3) });
        item["callbacks"] = callbacks;
        var reloads = new JsonArray();
        foreach (var e in runtime.ReloadHistory.Of(filter))
            reloads.Add((JsonNode)new JsonObject
            {
                ["at"] = e.At.ToUnixTimeMilliseconds() / 1000.0,
                ["accepted"] = e.Accepted,
                ["previous_hash"] = e.PreviousHash,
                ["hash"] = e.NewHash,
                ["error"] = e.Error,
            });
        item["reloads"] = reloads;
    }
}
