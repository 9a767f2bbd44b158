using System.Text.Json.Nodes;
using Gatehouse.Entities;
using Gatehouse.Store;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Admin;

/// <summary>
/// <c>GET /consumers?custom_id=x</c> (Kong's <c>kong/api/routes/consumers.lua</c>): the consumer with that
/// <c>custom_id</c> as a one- or zero-item list without paging; an empty, valueless or repeated <c>custom_id</c> is
/// 400 <c>custom_id must be an unempty string</c>.
/// </summary>
internal static class ConsumerLookup
{
    private const string Field = "custom_id";

    public static bool Applies(EntitySchema schema, HttpRequest request) =>
        schema.Name == "consumers" && request.Query.ContainsKey(Field);

    public static async Task<IResult> ByCustomId(HttpContext ctx, EntityDao dao, EntitySchema schema)
    {
        var values = ctx.Request.Query[Field];
        if (values.Count != 1 || string.IsNullOrEmpty(values[0]))
            return AdminResponses.Message("custom_id must be an unempty string", StatusCodes.Status400BadRequest);
        var consumer = await dao.Store.SelectByUniqueAsync(schema, Field, values[0]!, ctx.RequestAborted);
        return AdminResponses.Json(new JsonObject
        {
            ["data"] = consumer is null ? new JsonArray() : new JsonArray(consumer),
            ["next"] = null,
        });
    }
}
