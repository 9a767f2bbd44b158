using System.Text.Json.Nodes;
using Gatehouse.Entities;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Admin;

/// <summary><c>GET /schemas/{entity}</c> (the schema as data) and <c>POST /schemas/{entity}/validate</c>.</summary>
internal static class SchemaEndpoints
{
    public static void Map(IEndpointRouteBuilder endpoints)
    {
        endpoints.Map("/schemas/{name}", async ctx => await Dump(ctx).ExecuteAsync(ctx));
        endpoints.Map("/schemas/{db_entity_name}/validate", async ctx =>
            await (await Validate(ctx, ctx.Request.RouteValues["db_entity_name"]?.ToString() ?? "")).ExecuteAsync(ctx));
        // Its own route, as in Kong: /schemas/plugins/{name} would otherwise take it (and answer 405).
        endpoints.Map("/schemas/plugins/validate", async ctx => await (await Validate(ctx, "plugins")).ExecuteAsync(ctx));
    }

    private static EntitySchema? Find(HttpContext ctx, string name) =>
        ctx.RequestServices.GetRequiredService<EntityRegistry>().ByName(name);

    private static IResult Dump(HttpContext ctx)
    {
        if (ctx.Request.Method is not ("GET" or "HEAD")) return AdminResponses.MethodNotAllowed();
        var name = ctx.Request.RouteValues["name"]?.ToString() ?? "";
        if (Find(ctx, name) is not { } schema) return AdminResponses.Message($"No entity named '{name}'", 404);
        return AdminResponses.Json(SchemaDump.ToJson(schema));
    }

    private static async Task<IResult> Validate(HttpContext ctx, string name)
    {
        if (ctx.Request.Method != "POST") return AdminResponses.MethodNotAllowed();
        if (Find(ctx, name) is not { } schema) return AdminResponses.Message($"No entity named '{name}'", 404);
        var body = await AdminBodyReader.ReadAsync(ctx.Request, schema, ctx.RequestAborted);
        if (body.Error is not null) return body.Error;
        var input = body.Value!;
        input["id"] ??= Guid.NewGuid().ToString();
        var result = EntityValidator.Validate(schema, input, ValidationContext.Insert);
        return result.IsValid
            ? AdminResponses.Message("schema validation successful", 200)
            : AdminResponses.Error(DbError.SchemaViolation(result.Errors!));
    }
}
