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
        endpoints.Map("/schemas/{name}/validate", async ctx => await (await Validate(ctx)).ExecuteAsync(ctx));
    }

    private static EntitySchema? Find(HttpContext ctx) =>
        ctx.RequestServices.GetRequiredService<EntityRegistry>().ByName(ctx.Request.RouteValues["name"]?.ToString() ?? "");

    private static IResult Dump(HttpContext ctx)
    {
        if (ctx.Request.Method is not ("GET" or "HEAD")) return AdminResponses.MethodNotAllowed();
        if (Find(ctx) is not { } schema) return AdminResponses.Message($"No entity named '{ctx.Request.RouteValues["name"]}'", 404);
        return AdminResponses.Json(SchemaDump.ToJson(schema));
    }

    private static async Task<IResult> Validate(HttpContext ctx)
    {
        if (ctx.Request.Method != "POST") return AdminResponses.MethodNotAllowed();
        if (Find(ctx) is not { } schema) return AdminResponses.Message($"No entity named '{ctx.Request.RouteValues["name"]}'", 404);
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
