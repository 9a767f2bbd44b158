using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Entities;
using Gatehouse.Plugins.Bodies;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Net.Http.Headers;

namespace Gatehouse.Admin;

/// <summary>
/// Reads an Admin API request body, as Kong's Admin API does (<c>api_helpers.before_filter</c>): the Content-Type
/// header must start with <c>application/json</c>, <c>application/x-www-form-urlencoded</c> or
/// <c>multipart/form-data</c> (a case-sensitive prefix of the raw header, as Kong compares it); forms and multipart
/// are converted with the entity schema; no content type is fine for an empty body only; anything else is 415 (a
/// <c>text/plain</c> JSON body would be a cross-site write: browsers send it without a preflight). Bodies above
/// <c>admin_client_max_body_size</c> answer 413 before they are buffered. Returns the error response to send when
/// it cannot read the body.
/// </summary>
internal static class AdminBodyReader
{
    public readonly record struct Body(JsonObject? Value, IResult? Error);

    public readonly record struct Bytes(byte[]? Value, IResult? Error);

    public enum Kind { None, Json, Form, Multipart, Other }

    /// <summary>The body's kind from its Content-Type, by Kong's prefixes; <paramref name="mediaType"/> is the
    /// parsed header when it parses (callers that accept more types, such as <c>/config</c>, look at it).</summary>
    public static Kind KindOf(HttpRequest request, out MediaTypeHeaderValue? mediaType)
    {
        mediaType = null;
        var header = request.ContentType;
        if (string.IsNullOrEmpty(header)) return Kind.None;
        MediaTypeHeaderValue.TryParse(header, out mediaType);
        if (header.StartsWith("application/json", StringComparison.Ordinal)) return Kind.Json;
        if (header.StartsWith("application/x-www-form-urlencoded", StringComparison.Ordinal)) return Kind.Form;
        if (header.StartsWith("multipart/form-data", StringComparison.Ordinal)) return Kind.Multipart;
        return Kind.Other;
    }

    /// <summary>The whole body, or 413 when it is larger than the limit: refused from Content-Length before
    /// reading, else (chunked) as soon as the count passes it. Only the allowed size is ever buffered.</summary>
    public static async Task<Bytes> ReadBytesAsync(HttpRequest request, CancellationToken ct)
    {
        var limit = request.HttpContext.RequestServices.GetService<GatehouseOptions>()?.AdminClientMaxBodySize ?? new GatehouseOptions().AdminClientMaxBodySize;
        if (limit > 0 && request.ContentLength > limit) return new Bytes(null, TooLarge(request));
        var expected = request.ContentLength is { } length ? (int)Math.Min(length, Array.MaxLength) : 0;
        using var ms = new MemoryStream(expected);
        var chunk = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int n;
            while ((n = await request.Body.ReadAsync(chunk, ct)) > 0)
            {
                if (limit > 0 && ms.Length + n > limit) return new Bytes(null, TooLarge(request));
                ms.Write(chunk, 0, n);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
        return new Bytes(ms.Length == ms.Capacity ? ms.GetBuffer() : ms.ToArray(), null);
    }

    public static async Task<Body> ReadAsync(HttpRequest request, EntitySchema? schema, CancellationToken ct)
    {
        var kind = KindOf(request, out _);
        if (kind == Kind.Other) return new Body(null, UnsupportedMediaType());
        var read = await ReadBytesAsync(request, ct);
        if (read.Error is not null) return new Body(null, read.Error);
        var bytes = read.Value!;
        switch (kind)
        {
            case Kind.None:
                // Kong: no content type is fine for an empty body only.
                return bytes.Length == 0 ? new Body(new JsonObject(), null) : new Body(null, UnsupportedMediaType());
            case Kind.Multipart:
                return ReadMultipart(bytes, request.ContentType!, schema);
            case Kind.Form:
                return FromForm(FormUrlEncoded.Parse(bytes).Select(f => KeyValuePair.Create(f.Name, f.Value)), schema);
        }
        try
        {
            // An empty JSON body is not JSON: Kong answers "Cannot parse JSON body" too.
            return JsonNode.Parse(bytes) is JsonObject obj && Readable(obj) ? new Body(obj, null) : new Body(null, AdminResponses.BadJson());
        }
        catch (JsonException)
        {
            return new Body(null, AdminResponses.BadJson());
        }
        catch (ArgumentException)
        {
            return new Body(null, AdminResponses.BadJson());
        }
    }

    /// <summary>Each named part is a form argument (its value as text); a body without a boundary, without its
    /// closing delimiter or with a part whose headers do not end is 400.</summary>
    private static Body ReadMultipart(byte[] bytes, string contentType, EntitySchema? schema)
    {
        if (MultipartBody.Parse(bytes, contentType) is not { WellFormed: true } body)
            return new Body(null, AdminResponses.Message("Cannot parse multipart body", 400));
        return FromForm(body.Parts.Where(p => p.Name is not null).Select(p => KeyValuePair.Create(p.Name!, (string?)FormUrlEncoded.Lenient(p.Value))), schema);
    }

    /// <summary>413 as Kong's error handler words it; the connection closes since the rest of the body is unread.</summary>
    private static IResult TooLarge(HttpRequest request)
    {
        request.HttpContext.Response.Headers.Connection = "close";
        return AdminResponses.Message("Payload too large", StatusCodes.Status413PayloadTooLarge);
    }

    public static IResult UnsupportedMediaType() => AdminResponses.Message("Unsupported Media Type", StatusCodes.Status415UnsupportedMediaType);

    /// <summary>False when a string escapes to invalid UTF-16 (a lone surrogate), which has no UTF-8 form.</summary>
    private static bool Readable(JsonNode? node)
    {
        try
        {
            switch (node)
            {
                case JsonObject o: return o.All(p => Readable(p.Value));
                case JsonArray a: return a.All(Readable);
                case JsonValue v when v.GetValueKind() == JsonValueKind.String: _ = v.GetValue<string>(); return true;
                default: return true;
            }
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private static Body FromForm(IEnumerable<KeyValuePair<string, string?>> pairs, EntitySchema? schema)
    {
        var decoded = FormArgumentDecoder.Decode(pairs);
        return new Body(schema is null ? decoded : FormValueInference.Infer(schema, decoded), null);
    }
}
