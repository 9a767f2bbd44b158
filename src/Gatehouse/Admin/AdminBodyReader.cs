using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Entities;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Net.Http.Headers;

namespace Gatehouse.Admin;

/// <summary>
/// Reads an Admin API request body, as Kong's Admin API does: JSON only under a JSON content type
/// (<c>application/json</c> or <c>*/*+json</c>), form-urlencoded and multipart as forms (converted with the entity
/// schema), no content type only for an empty body, anything else 415 (a <c>text/plain</c> JSON body would be a
/// cross-site write: browsers send it without a preflight). Bodies above <c>admin_client_max_body_size</c> answer
/// 413 before they are buffered. Returns the error response to send when it cannot read the body.
/// </summary>
internal static class AdminBodyReader
{
    public readonly record struct Body(JsonObject? Value, IResult? Error);

    public readonly record struct Bytes(byte[]? Value, IResult? Error);

    public enum Kind { None, Json, Form, Multipart, Other }

    /// <summary>The body's kind from its Content-Type (lower-cased media type).</summary>
    public static Kind KindOf(HttpRequest request, out MediaTypeHeaderValue? mediaType)
    {
        mediaType = null;
        if (string.IsNullOrEmpty(request.ContentType)) return Kind.None;
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out mediaType)) return Kind.Other;
        var type = mediaType.MediaType.Value?.ToLowerInvariant() ?? "";
        return type switch
        {
            "application/json" => Kind.Json,
            "application/x-www-form-urlencoded" => Kind.Form,
            "multipart/form-data" => Kind.Multipart,
            _ when type.EndsWith("+json", StringComparison.Ordinal) => Kind.Json,
            _ => Kind.Other,
        };
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
        var kind = KindOf(request, out var mediaType);
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
                return await ReadMultipart(bytes, mediaType!, schema, ct);
            case Kind.Form:
                var text = Encoding.Latin1.GetString(bytes);
                var pairs = text.Split('&', StringSplitOptions.RemoveEmptyEntries).Select(p =>
                {
                    var eq = p.IndexOf('=');
                    return eq < 0 ? KeyValuePair.Create(FormArgumentDecoder.DecodeComponent(p), "")
                        : KeyValuePair.Create(FormArgumentDecoder.DecodeComponent(p[..eq]), FormArgumentDecoder.DecodeComponent(p[(eq + 1)..]));
                });
                return FromForm(pairs, schema);
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

    private static async Task<Body> ReadMultipart(byte[] bytes, MediaTypeHeaderValue mediaType, EntitySchema? schema, CancellationToken ct)
    {
        var boundary = HeaderUtilities.RemoveQuotes(mediaType.Boundary).Value;
        if (string.IsNullOrEmpty(boundary)) return new Body(null, AdminResponses.Message("Cannot parse multipart body", 400));
        var parts = new List<KeyValuePair<string, string>>();
        var reader = new MultipartReader(boundary, new MemoryStream(bytes, writable: false));
        try
        {
            while (await reader.ReadNextSectionAsync(ct) is { } section)
            {
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var cd) || cd.Name.Value is not { } name) continue;
                using var ms = new MemoryStream();
                await section.Body.CopyToAsync(ms, ct);
                parts.Add(KeyValuePair.Create(HeaderUtilities.RemoveQuotes(name).Value ?? name, FormArgumentDecoder.LenientUtf8(ms.ToArray())));
            }
        }
        catch (Exception e) when (e is IOException or InvalidDataException)
        {
            // MultipartReader's answers to a malformed body: IOException (the body ends before a boundary or a
            // section's headers end), InvalidDataException (a line or the headers over its limits).
            return new Body(null, AdminResponses.Message("Cannot parse multipart body", 400));
        }
        return FromForm(parts, schema);
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

    private static Body FromForm(IEnumerable<KeyValuePair<string, string>> pairs, EntitySchema? schema)
    {
        var decoded = FormArgumentDecoder.Decode(pairs);
        return new Body(schema is null ? decoded : FormValueInference.Infer(schema, decoded), null);
    }
}
