using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Entities;
using Gatehouse.Store;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Admin;

/// <summary>
/// Kong's <c>tags</c> entity (<c>kong/db/schema/entities/tags.lua</c>, <c>kong/api/routes/tags.lua</c>): every
/// (entity, tag) pair of the entities that have tags, as <c>{entity_name, entity_id, tag}</c>, paged with
/// <c>size</c>/<c>offset</c>; <c>/tags/{tag}</c> only that tag's pairs. The rows are read-only: writes answer
/// Kong's schema violation <c>does not support insert/upsert/update/delete operations</c>. The pairs are read from
/// the entities on each request (the Admin API is not a hot path), ordered by entity id, then tag.
/// </summary>
internal static class TagEndpoints
{
    public static void Map(IEndpointRouteBuilder endpoints)
    {
        endpoints.Map("/tags", async ctx => await (await Handle(ctx, null)).ExecuteAsync(ctx));
        endpoints.Map("/tags/{tags}", async ctx => await (await Handle(ctx, ctx.Request.RouteValues["tags"]?.ToString() ?? "")).ExecuteAsync(ctx));
    }

    private readonly record struct Pair(string EntityName, string EntityId, string Tag);

    private static async Task<IResult> Handle(HttpContext ctx, string? tag)
    {
        var method = ctx.Request.Method;
        if (method is "POST" or "PUT" or "PATCH" or "DELETE" && (tag is not null || method == "POST"))
            return AdminResponses.Error(DbError.SchemaViolation(new JsonObject { ["tags"] = "does not support insert/upsert/update/delete operations" }));
        if (method is not ("GET" or "HEAD")) return AdminResponses.MethodNotAllowed();
        if (tag is not null && TagError(tag) is { } invalid)
            return AdminResponses.Json(new JsonObject { ["code"] = (int)DbErrorCode.InvalidUniqueKey, ["name"] = "invalid unique tag", ["message"] = invalid }, 400);

        var query = ctx.Request.Query;
        if (AdminPaging.ParseSize(query, out var size) is { } sizeError) return AdminResponses.Error(sizeError);
        Pair? after = null;
        if (query.TryGetValue("offset", out var offsetText))
        {
            if (DecodeOffset(offsetText.ToString()) is not { } decoded)
                return AdminResponses.Error(new DbError(DbErrorCode.InvalidOffset, $"'{offsetText}' is not a valid offset: bad base64 encoding"));
            after = decoded;
        }

        var pairs = await PairsAsync(ctx, tag);
        var start = after is { } a ? pairs.FindIndex(p => Compare(p, a) > 0) : 0;
        if (start < 0) start = pairs.Count;
        var page = pairs.Skip(start).Take(size).ToList();
        var more = start + page.Count < pairs.Count;
        var body = new JsonObject
        {
            ["data"] = new JsonArray([.. page.Select(p => (JsonNode?)new JsonObject
            {
                ["entity_name"] = p.EntityName,
                ["entity_id"] = p.EntityId,
                ["tag"] = p.Tag,
            })]),
        };
        if (!more)
        {
            body["next"] = null;
            return AdminResponses.Json(body);
        }
        var token = EncodeOffset(page[^1]);
        body["offset"] = token;
        var next = new StringBuilder(tag is null ? "/tags" : "/tags/" + Uri.EscapeDataString(tag)).Append("?offset=").Append(Uri.EscapeDataString(token));
        if (tag is null && query.TryGetValue("size", out var sizeArg)) next.Append("&size=").Append(Uri.EscapeDataString(sizeArg.ToString()));
        body["next"] = next.ToString();
        return AdminResponses.Json(body);
    }

    /// <summary>Kong validates the path's tag with the tag typedef: the string checks (UTF-8), then the pattern.</summary>
    private static string? TagError(string tag)
    {
        if (Utf8Check.FirstInvalidPosition(tag) is { } pos) return $"invalid utf-8 character sequence detected at position {pos}";
        return HostValidation.ValidateTag(tag);
    }

    private static async Task<List<Pair>> PairsAsync(HttpContext ctx, string? only)
    {
        var registry = ctx.RequestServices.GetRequiredService<EntityRegistry>();
        var store = ctx.RequestServices.GetRequiredService<EntityDao>().Store;
        var pairs = new List<Pair>();
        foreach (var schema in registry.Schemas.Where(s => s.Field("tags") is not null))
        {
            foreach (var row in await store.ListAllAsync(schema, ctx.RequestAborted))
            {
                if (row["tags"] is not JsonArray tags) continue;
                var id = EntityJson.String(row, "id") ?? "";
                foreach (var t in tags.Select(t => t?.GetValue<string>()).OfType<string>().Distinct(StringComparer.Ordinal))
                    if (only is null || t == only) pairs.Add(new Pair(schema.Name, id, t));
            }
        }
        pairs.Sort(Compare);
        return pairs;
    }

    private static int Compare(Pair a, Pair b)
    {
        var byId = string.CompareOrdinal(a.EntityId, b.EntityId);
        return byId != 0 ? byId : string.CompareOrdinal(a.Tag, b.Tag);
    }

    // The offset names the last pair of the page: its entity id (36 characters) then its tag.
    private static string EncodeOffset(Pair last) => Convert.ToBase64String(Encoding.UTF8.GetBytes(last.EntityId + last.Tag));

    private static Pair? DecodeOffset(string token)
    {
        var buffer = new byte[token.Length];
        if (!Convert.TryFromBase64String(token, buffer, out var n)) return null;
        var text = Encoding.UTF8.GetString(buffer, 0, n);
        if (text.Length < 36 || !Guid.TryParseExact(text[..36], "D", out _)) return null;
        return new Pair("", text[..36], text[36..]);
    }
}
