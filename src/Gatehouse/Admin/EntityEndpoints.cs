using System.Text.Json.Nodes;
using Gatehouse.Entities;
using Gatehouse.Store;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Admin;

/// <summary>
/// The endpoints Kong generates for every entity schema (<c>kong/api/endpoints.lua</c>): collection,
/// entity, and for each foreign key the nested collection/entity under the parent and the parent seen
/// from the child. One generic handler set serves every entity.
/// </summary>
internal static class EntityEndpoints
{
    public static void Map(IEndpointRouteBuilder endpoints, EntitySchema schema, EntityRegistry registry)
    {
        // Route parameters carry the entity names, as Kong's (/services/{services}/routes/{routes}); GET /endpoints lists them.
        var name = schema.AdminApiName;
        var key = schema.Name;
        endpoints.Map($"/{name}", Handler(CollectionMethods, (ctx, dao) => Collection(ctx, dao, schema, null)));
        endpoints.Map($"/{name}/{{{key}}}", Handler(EntityMethods, (ctx, dao) => Entity(ctx, dao, schema, Key(ctx, key), null)));
        foreach (var field in schema.ForeignFields)
        {
            if (registry.ByName(field.Reference!) is not { } parent) continue;
            var parentName = parent.AdminApiName;
            var parentKey = parent.Name == key ? "parent_" + key : parent.Name; // a self-reference needs two names
            var nested = schema.NestedAdminApiName ?? name;
            endpoints.Map($"/{parentName}/{{{parentKey}}}/{nested}", Handler(CollectionMethods, (ctx, dao) =>
                WithParent(ctx, dao, parent, parentKey, fk => Collection(ctx, dao, schema, new ForeignFilter(field.Name, fk)))));
            endpoints.Map($"/{parentName}/{{{parentKey}}}/{nested}/{{{key}}}", Handler(EntityMethods, (ctx, dao) =>
                WithParent(ctx, dao, parent, parentKey, fk => Entity(ctx, dao, schema, Key(ctx, key), new ForeignFilter(field.Name, fk)))));
            endpoints.Map($"/{name}/{{{key}}}/{field.Name}", Handler(EntityMethods, (ctx, dao) => ForeignEntity(ctx, dao, schema, field, parent)));
        }
    }

    private const string CollectionMethods = "GET, HEAD, OPTIONS, POST";
    private const string EntityMethods = "DELETE, GET, HEAD, OPTIONS, PATCH, PUT";

    /// <summary>As Kong's Admin API: OPTIONS answers 204 with the endpoint's methods. The CORS answer (origin,
    /// credentials, preflight) is <see cref="AdminGuard"/>'s, for admin_gui_url origins only.</summary>
    private static RequestDelegate Handler(string methods, Func<HttpContext, EntityDao, Task<IResult>> handler) => async ctx =>
    {
        if (HttpMethods.IsOptions(ctx.Request.Method))
        {
            ctx.Response.StatusCode = StatusCodes.Status204NoContent;
            ctx.Response.Headers.Allow = methods;
            ctx.Response.Headers.AccessControlAllowMethods = methods;
            ctx.Response.Headers.AccessControlAllowHeaders = "Content-Type";
            return;
        }
        var dao = ctx.RequestServices.GetRequiredService<EntityDao>();
        var result = await handler(ctx, dao);
        await result.ExecuteAsync(ctx);
    };

    private static string Key(HttpContext ctx, string name) => ctx.Request.RouteValues[name]?.ToString() ?? "";

    private static async Task<IResult> WithParent(HttpContext ctx, EntityDao dao, EntitySchema parent, string parentKey, Func<Guid, Task<IResult>> next)
    {
        var row = await dao.SelectAsync(parent, Key(ctx, parentKey), ctx.RequestAborted);
        return row is null ? AdminResponses.NotFound() : await next(EntityJson.Guid(row, "id"));
    }

    private static async Task<IResult> Collection(HttpContext ctx, EntityDao dao, EntitySchema schema, ForeignFilter? scope)
    {
        var ct = ctx.RequestAborted;
        switch (ctx.Request.Method)
        {
            case "GET" or "HEAD":
                if (scope is null && ConsumerLookup.Applies(schema, ctx.Request)) return await ConsumerLookup.ByCustomId(ctx, dao, schema);
                if (AdminPaging.TryParse(ctx.Request.Query, ctx.Request.QueryString.Value, scope, out var query) is { } error)
                    return AdminResponses.Error(error);
                var page = await dao.Store.PageAsync(schema, query, ct);
                foreach (var row in page.Items) await dao.ShowAsync(schema, row, ct);
                return AdminResponses.Json(AdminPaging.Response(page.Items, page.Last, ctx.Request.Path, ctx.Request.Query, scope is not null));
            case "POST":
                if (dao.ReadOnly) return AdminResponses.Error(DbError.OperationUnsupported("create", schema.Name));
                var body = await AdminBodyReader.ReadAsync(ctx.Request, schema, ct);
                if (body.Error is not null) return body.Error;
                if (scope is not null) body.Value![scope.Field] = new JsonObject { ["id"] = scope.Id.ToString() };
                return Written(await dao.InsertAsync(schema, body.Value!, ct), StatusCodes.Status201Created);
            default:
                return AdminResponses.MethodNotAllowed();
        }
    }

    private static async Task<IResult> Entity(HttpContext ctx, EntityDao dao, EntitySchema schema, string key, ForeignFilter? scope)
    {
        var ct = ctx.RequestAborted;
        var method = ctx.Request.Method;
        if (method is not ("GET" or "HEAD" or "PUT" or "PATCH" or "DELETE")) return AdminResponses.MethodNotAllowed();
        if (dao.ReadOnly && method is "PUT" or "PATCH" or "DELETE")
            return AdminResponses.Error(DbError.OperationUnsupported(method == "DELETE" ? "delete" : method == "PUT" ? "create" : "update", schema.Name));

        var existing = await dao.SelectAsync(schema, key, ct);
        if (scope is not null && existing is not null && EntityJson.ForeignId(existing, scope.Field) != scope.Id)
            return AdminResponses.NotFound();
        switch (method)
        {
            case "GET" or "HEAD":
                if (existing is null) return NotFound(dao, schema, key);
                await dao.ShowAsync(schema, existing, ct);
                return AdminResponses.Json(existing);
            case "DELETE":
                if (existing is null) return ByChildKey(schema, key) ? NotFound(dao, schema, key) : AdminResponses.NoContent();
                var deleted = await dao.DeleteAsync(schema, key, ct);
                return deleted.Error is { } e ? AdminResponses.Error(e) : AdminResponses.NoContent();
        }
        if (method == "PATCH" && existing is null && ByChildKey(schema, key)) return NotFound(dao, schema, key);
        var body = await AdminBodyReader.ReadAsync(ctx.Request, schema, ct);
        if (body.Error is not null) return body.Error;
        if (scope is not null) body.Value![scope.Field] = new JsonObject { ["id"] = scope.Id.ToString() };
        return method == "PUT"
            ? Written(await dao.UpsertAsync(schema, key, body.Value!, ct), StatusCodes.Status200OK)
            : Written(await dao.UpdateAsync(schema, key, body.Value!, ct), StatusCodes.Status200OK);
    }

    /// <summary><c>/routes/{route}/service</c>: the referenced entity; DELETE is refused while associated.</summary>
    private static async Task<IResult> ForeignEntity(HttpContext ctx, EntityDao dao, EntitySchema schema, FieldDefinition field, EntitySchema parent)
    {
        var method = ctx.Request.Method;
        if (method is not ("GET" or "HEAD" or "PUT" or "PATCH" or "DELETE")) return AdminResponses.MethodNotAllowed();
        var child = await dao.SelectAsync(schema, Key(ctx, schema.Name), ctx.RequestAborted);
        if (child is not null && method == "PUT" && EntityJson.ForeignId(child, field.Name) is null && !dao.ReadOnly)
            return await CreateAndAssociate(ctx, dao, schema, field, parent, child);
        if (child is null || EntityJson.ForeignId(child, field.Name) is not { } parentId) return AdminResponses.NotFound();
        if (method == "DELETE") return AdminResponses.MethodNotAllowed();
        return await Entity(ctx, dao, parent, parentId.ToString(), null);
    }

    /// <summary>As Kong: PUT on <c>/routes/{route}/service</c> of a route without a service creates one and links it.</summary>
    private static async Task<IResult> CreateAndAssociate(HttpContext ctx, EntityDao dao, EntitySchema schema, FieldDefinition field,
        EntitySchema parent, JsonObject child)
    {
        var ct = ctx.RequestAborted;
        var body = await AdminBodyReader.ReadAsync(ctx.Request, parent, ct);
        if (body.Error is not null) return body.Error;
        var created = await dao.UpsertAsync(parent, Guid.NewGuid().ToString(), body.Value!, ct);
        if (created.Error is { } error) return AdminResponses.Error(error);
        var link = new JsonObject { [field.Name] = new JsonObject { ["id"] = created.Entity!["id"]?.DeepClone() } };
        var linked = await dao.UpdateAsync(schema, EntityJson.Guid(child, "id").ToString(), link, ct);
        return linked.Error is { } e ? AdminResponses.Error(e) : AdminResponses.Json(created.Entity!);
    }

    /// <summary>A certificate addressed by an SNI name (Kong's <c>/certificates/{sni}</c>).</summary>
    private static bool ByChildKey(EntitySchema schema, string key) => schema.ChildNames is not null && !Guid.TryParse(key, out _);

    /// <summary>Kong answers "SNI not found" when no certificate has the SNI named in the URL.</summary>
    private static IResult NotFound(EntityDao dao, EntitySchema schema, string key) =>
        ByChildKey(schema, key) && dao.Registry.ByName(schema.ChildNames!.Child) is { } child
            ? AdminResponses.Message(child.SingularName.ToUpperInvariant() + " not found", StatusCodes.Status404NotFound)
            : AdminResponses.NotFound();

    private static IResult Written(DaoResult result, int status) =>
        result.Error is { } error ? AdminResponses.Error(error) : AdminResponses.Json(result.Entity!, status);
}
