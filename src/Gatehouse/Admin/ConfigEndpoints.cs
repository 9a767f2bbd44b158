using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Entities;
using Gatehouse.Store.Declarative;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Admin;

/// <summary>
/// DB-less <c>/config</c>: <c>POST</c> validates a whole declarative configuration and swaps it in atomically
/// (201 with the loaded entities, or 400 with Kong's declarative error; <c>?flatten_errors=1</c> adds
/// <c>flattened_errors</c>); <c>GET</c> exports the current one as <c>{"config": "&lt;yaml&gt;"}</c>.
/// </summary>
internal static class ConfigEndpoints
{
    public static void Map(IEndpointRouteBuilder endpoints) =>
        endpoints.Map("/config", async ctx => await (await Handle(ctx)).ExecuteAsync(ctx));

    private static async Task<IResult> Handle(HttpContext ctx)
    {
        var services = ctx.RequestServices;
        if (services.GetRequiredService<GatehouseOptions>().Database != DatabaseKind.Off)
            return AdminResponses.Message("this endpoint is only available when Kong is configured to not use a database", 400);
        var declarative = services.GetRequiredService<DeclarativeConfigService>();
        switch (ctx.Request.Method)
        {
            case "GET" or "HEAD":
                return AdminResponses.Json(new JsonObject { ["config"] = await declarative.ExportYamlAsync(ctx.RequestAborted) });
            case "POST":
                break;
            default:
                return AdminResponses.MethodNotAllowed();
        }
        var content = await ReadConfig(ctx.Request, ctx.RequestAborted);
        if (content.Error is not null) return content.Error;
        // Validating and compiling a big file takes CPU seconds: off the socket I/O thread (inline_io), so the
        // other connections that thread serves (Admin GET /, proxy traffic) are not held behind it.
        var result = await Task.Run(() => declarative.ApplyAsync(content.Bytes!, ctx.RequestAborted), ctx.RequestAborted);
        if (result.Error is { } error)
        {
            var flatten = ctx.Request.Query["flatten_errors"].ToString() is "1" or "true";
            if (!flatten) return AdminResponses.Json((error with { Extra = null }).ToJson(), error.HttpStatus);
            // Flattened: per-entity errors move to flattened_errors; fields keeps only the top-level remainder.
            var body = error.ToJson();
            if (body["fields"] is JsonObject nested)
                body["fields"] = new JsonObject(nested.Where(p => p.Value is JsonValue).Select(p => KeyValuePair.Create(p.Key, p.Value?.DeepClone())));
            return AdminResponses.Json(body, error.HttpStatus);
        }
        return await Task.Run(() =>
        {
            var loaded = new JsonObject();
            foreach (var (schema, rows) in result.Entities!)
                loaded[schema.Name] = new JsonObject(rows.Select(r => KeyValuePair.Create(EntityJson.String(r, "id")!, (JsonNode?)r.DeepClone())));
            return AdminResponses.Json(loaded, StatusCodes.Status201Created);
        }, ctx.RequestAborted);
    }

    private readonly record struct Content(byte[]? Bytes, IResult? Error);

    /// <summary>The file comes as a JSON body (the config itself or <c>{"config": "..."}</c>), as a form or
    /// multipart field <c>config</c>, or as the raw file under a YAML content type (<c>application/yaml</c>,
    /// <c>application/x-yaml</c>, <c>text/yaml</c>, <c>text/x-yaml</c>). Other types answer 415 (<c>text/plain</c>
    /// would let any web page replace the configuration without a CORS preflight).</summary>
    private static async Task<Content> ReadConfig(HttpRequest request, CancellationToken ct)
    {
        var kind = AdminBodyReader.KindOf(request, out var mediaType);
        if (kind is AdminBodyReader.Kind.Form or AdminBodyReader.Kind.Multipart)
        {
            var form = await AdminBodyReader.ReadAsync(request, null, ct);
            if (form.Error is not null) return new Content(null, form.Error);
            return form.Value!["config"] is JsonValue v && v.TryGetValue<string>(out var s)
                ? new Content(Encoding.UTF8.GetBytes(s), null)
                : new Content(null, AdminResponses.Message("expected a declarative configuration", 400));
        }
        var yaml = kind == AdminBodyReader.Kind.Other && mediaType!.MediaType.Value?.ToLowerInvariant() is
            "application/yaml" or "application/x-yaml" or "text/yaml" or "text/x-yaml";
        if (kind == AdminBodyReader.Kind.Other && !yaml) return new Content(null, AdminBodyReader.UnsupportedMediaType());
        var read = await AdminBodyReader.ReadBytesAsync(request, ct);
        if (read.Error is not null) return new Content(null, read.Error);
        var bytes = read.Value!;
        if (kind == AdminBodyReader.Kind.None && bytes.Length > 0) return new Content(null, AdminBodyReader.UnsupportedMediaType());
        if (kind != AdminBodyReader.Kind.Json) return new Content(bytes, null);
        try
        {
            if (JsonNode.Parse(bytes) is JsonObject obj && obj["config"] is JsonValue cv && cv.TryGetValue<string>(out var text))
                return new Content(Encoding.UTF8.GetBytes(text), null);
            return new Content(bytes, null);
        }
        catch (JsonException)
        {
            return new Content(null, AdminResponses.BadJson());
        }
    }
}
