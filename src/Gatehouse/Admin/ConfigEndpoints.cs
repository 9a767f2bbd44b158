using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Entities;
using Gatehouse.Store;
using Gatehouse.Store.Declarative;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.WebUtilities;
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
        var options = content.Options;
        // Kong: with check_hash=1, a configuration text whose MD5 is the current configuration's is not loaded again
        if (options.CheckHash && content.Hashable && DeclarativeConfigService.HashOf(content.Bytes!) == declarative.ConfigurationHash)
            return Results.StatusCode(StatusCodes.Status304NotModified);
        // Validating and compiling a big file takes CPU seconds: off the socket I/O thread (inline_io), so the
        // other connections that thread serves (Admin GET /, proxy traffic) are not held behind it. The 201's body is
        // written from the validated rows before they are stored, and the rows let go of as they are compiled. Past
        // AnswerInMemoryBytes it goes to a temporary file (in ASPNETCORE_TEMP, else the temporary directory), not the
        // heap: a 100,000-route file's answer (~55 MB) would otherwise be held through the store and the compile, on
        // top of the configuration being replaced and the one being built
        var answer = new FileBufferingWriteStream(AnswerInMemoryBytes);
        DeclarativeResult result;
        try
        {
            result = await Task.Run(() => declarative.ApplyAsync(content.Bytes!, rows => WriteLoaded(rows, answer), ctx.RequestAborted),
                ctx.RequestAborted);
        }
        catch
        {
            await answer.DisposeAsync();
            throw;
        }
        if (result.Error is { } error)
        {
            await answer.DisposeAsync();
            if (!options.FlattenErrors) return AdminResponses.Json((error with { Extra = null }).ToJson(), error.HttpStatus);
            // Flattened: per-entity errors move to flattened_errors; fields keeps only the top-level remainder.
            var body = error.ToJson();
            if (body["fields"] is JsonObject nested)
                body["fields"] = new JsonObject(nested.Where(p => p.Value is JsonValue).Select(p => KeyValuePair.Create(p.Key, p.Value?.DeepClone())));
            return AdminResponses.Json(body, error.HttpStatus);
        }
        CompactWhenSent(ctx.Response, declarative, content.Bytes!.Length);
        return new LoadedEntities(answer);
    }

    /// <summary>An answer up to this size stays in memory (pooled pages); a larger one is written to a file.</summary>
    internal const int AnswerInMemoryBytes = 1 << 20;

    /// <summary>The 201 answer: the loaded entities, by entity name then id, in load order (<see cref="WriteLoaded"/>),
    /// written before they were stored.</summary>
    private sealed class LoadedEntities(FileBufferingWriteStream body) : IResult
    {
        public async Task ExecuteAsync(HttpContext ctx)
        {
            await using (body)
            {
                ctx.Response.StatusCode = StatusCodes.Status201Created;
                ctx.Response.ContentType = AdminResponses.JsonType;
                ctx.Response.ContentLength = body.Length;
                await body.DrainBufferAsync(ctx.Response.BodyWriter, ctx.RequestAborted);
            }
        }
    }

    /// <summary><c>{"&lt;entity&gt;": {"&lt;id&gt;": row, …}, …}</c>, as <see cref="AdminResponses.Json"/> writes it, to
    /// <paramref name="output"/> as it goes (a few KB at a time).</summary>
    internal static void WriteLoaded(IReadOnlyDictionary<EntitySchema, IReadOnlyList<JsonObject>> entities, Stream output)
    {
        const int flushAt = 16 << 10;
        using var writer = new Utf8JsonWriter(output, AdminResponses.WireWriter);
        writer.WriteStartObject();
        foreach (var (schema, rows) in entities)
        {
            writer.WriteStartObject(schema.Name);
            if (rows is JsonTextRows text)
            {
                // a load's rows are text: each written from a JsonDocument over it (no copy, pooled), not a tree of
                // its own (~4 KB of nodes per route: half a GB of garbage for 100,000 routes)
                for (var i = 0; i < text.Count; i++)
                {
                    writer.WritePropertyName(text.IdAt(i));
                    using var row = JsonDocument.Parse(text.TextAt(i));
                    row.RootElement.WriteTo(writer);
                    if (writer.BytesPending >= flushAt) writer.Flush();
                }
            }
            else
            {
                foreach (var row in rows)
                {
                    writer.WritePropertyName(EntityJson.String(row, "id")!);
                    row.WriteTo(writer);
                    if (writer.BytesPending >= flushAt) writer.Flush();
                }
            }
            writer.WriteEndObject();
        }
        writer.WriteEndObject();
    }

    /// <summary>After the answer has left, when the loaded rows are garbage (a method of its own, so the callback
    /// captures nothing that holds them).</summary>
    private static void CompactWhenSent(HttpResponse response, DeclarativeConfigService declarative, int contentBytes) =>
        response.OnCompleted(() =>
        {
            declarative.CompactAfterLoad(contentBytes);
            return Task.CompletedTask;
        });

    /// <summary><c>check_hash</c> and <c>flatten_errors</c>, from the query or the body's own members (Kong reads
    /// both from its merged request parameters, and takes them out of a configuration given as the JSON body).</summary>
    private readonly record struct PostOptions(bool CheckHash, bool FlattenErrors)
    {
        public static PostOptions From(HttpRequest request, JsonObject? body)
        {
            var checkHash = Text(request, body, "check_hash");
            var flatten = Text(request, body, "flatten_errors");
            body?.Remove("check_hash");
            body?.Remove("flatten_errors");
            // check_hash is compared with "1" only; flatten_errors is Kong's truthy()
            return new PostOptions(checkHash == "1", flatten?.ToLowerInvariant() is "true" or "1" or "on" or "yes");
        }

        private static string? Text(HttpRequest request, JsonObject? body, string name)
        {
            if (body?[name] is JsonValue v)
                return v.TryGetValue<string>(out var s) ? s : v.GetValueKind() == JsonValueKind.True ? "true" : v.ToJsonString();
            return request.Query.TryGetValue(name, out var q) ? q.ToString() : null;
        }
    }

    /// <summary>The configuration's bytes; <see cref="Hashable"/> when it came as text (a YAML/JSON file or the
    /// <c>config</c> field), the only case where Kong hashes what it received and can answer 304.</summary>
    private readonly record struct Content(byte[]? Bytes, bool Hashable, PostOptions Options, IResult? Error)
    {
        public static Content Failed(IResult error) => new(null, false, default, error);
    }

    private static IResult NoConfiguration() => AdminResponses.Message("expected a declarative configuration", StatusCodes.Status400BadRequest);

    /// <summary>The file comes as a JSON body (the config itself or <c>{"config": "..."}</c>), as a form or
    /// multipart field <c>config</c>, or as the raw file under a YAML content type (<c>application/yaml</c>,
    /// <c>application/x-yaml</c>, <c>text/yaml</c>, <c>text/x-yaml</c>). Other types answer 415 (<c>text/plain</c>
    /// would let any web page replace the configuration without a CORS preflight). No configuration at all answers
    /// Kong's 400 <c>expected a declarative configuration</c> (a JSON body must still parse, as everywhere).</summary>
    private static async Task<Content> ReadConfig(HttpRequest request, CancellationToken ct)
    {
        var kind = AdminBodyReader.KindOf(request, out var mediaType);
        if (kind is AdminBodyReader.Kind.Form or AdminBodyReader.Kind.Multipart)
        {
            var form = await AdminBodyReader.ReadAsync(request, null, ct);
            if (form.Error is not null) return Content.Failed(form.Error);
            var options = PostOptions.From(request, form.Value);
            return form.Value!["config"] is JsonValue v && v.TryGetValue<string>(out var s)
                ? new Content(Encoding.UTF8.GetBytes(s), true, options, null)
                : Content.Failed(NoConfiguration());
        }
        var yaml = kind == AdminBodyReader.Kind.Other && mediaType?.MediaType.Value?.ToLowerInvariant() is
            "application/yaml" or "application/x-yaml" or "text/yaml" or "text/x-yaml";
        if (kind == AdminBodyReader.Kind.Other && !yaml) return Content.Failed(AdminBodyReader.UnsupportedMediaType());
        var read = await AdminBodyReader.ReadBytesAsync(request, ct);
        if (read.Error is not null) return Content.Failed(read.Error);
        var bytes = read.Value!;
        if (kind == AdminBodyReader.Kind.None && bytes.Length > 0) return Content.Failed(AdminBodyReader.UnsupportedMediaType());
        if (kind != AdminBodyReader.Kind.Json)
            return bytes.Length == 0 ? Content.Failed(NoConfiguration()) : new Content(bytes, true, PostOptions.From(request, null), null);
        try
        {
            if (JsonNode.Parse(bytes) is not JsonObject obj) return new Content(bytes, true, PostOptions.From(request, null), null);
            var changed = obj.ContainsKey("check_hash") || obj.ContainsKey("flatten_errors"); // taken out by From
            var options = PostOptions.From(request, obj);
            if (obj["config"] is JsonValue cv && cv.TryGetValue<string>(out var text))
                return new Content(Encoding.UTF8.GetBytes(text), true, options, null);
            // the configuration is the body itself: Kong validates the parsed table and has no text to hash
            return obj.ContainsKey("_format_version")
                ? new Content(changed ? Encoding.UTF8.GetBytes(obj.ToJsonString()) : bytes, false, options, null)
                : new Content(bytes, true, options, null);
        }
        catch (JsonException)
        {
            return Content.Failed(AdminResponses.BadJson());
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            // a repeated member or a lone surrogate escape: the declarative parser reads it as Kong does (or refuses it)
            return new Content(bytes, false, PostOptions.From(request, null), null);
        }
    }
}
