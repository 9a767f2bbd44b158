using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Entities;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace Gatehouse.Admin;

/// <summary>
/// Reads an Admin API request body as a JSON object: JSON, form-urlencoded or multipart (Kong's argument
/// conventions, converted with the entity schema). Returns the error response to send when it cannot.
/// </summary>
internal static class AdminBodyReader
{
    public readonly record struct Body(JsonObject? Value, IResult? Error);

    public static async Task<byte[]> ReadBytesAsync(HttpRequest request, CancellationToken ct)
    {
        using var ms = new MemoryStream();
        await request.Body.CopyToAsync(ms, ct);
        return ms.ToArray();
    }

    public static async Task<Body> ReadAsync(HttpRequest request, EntitySchema? schema, CancellationToken ct)
    {
        var mediaType = MediaTypeHeaderValue.TryParse(request.ContentType, out var mt) ? mt.MediaType.Value?.ToLowerInvariant() : null;
        if (mediaType == "multipart/form-data")
        {
            var boundary = HeaderUtilities.RemoveQuotes(mt!.Boundary).Value;
            if (string.IsNullOrEmpty(boundary)) return new Body(null, AdminResponses.Message("Cannot parse multipart body", 400));
            var parts = new List<KeyValuePair<string, string>>();
            var reader = new MultipartReader(boundary, request.Body);
            while (await reader.ReadNextSectionAsync(ct) is { } section)
            {
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var cd) || cd.Name.Value is not { } name) continue;
                using var ms = new MemoryStream();
                await section.Body.CopyToAsync(ms, ct);
                parts.Add(KeyValuePair.Create(HeaderUtilities.RemoveQuotes(name).Value ?? name, FormArgumentDecoder.LenientUtf8(ms.ToArray())));
            }
            return FromForm(parts, schema);
        }

        var bytes = await ReadBytesAsync(request, ct);
        if (mediaType == "application/x-www-form-urlencoded")
        {
            var text = Encoding.Latin1.GetString(bytes);
            var pairs = text.Split('&', StringSplitOptions.RemoveEmptyEntries).Select(p =>
            {
                var eq = p.IndexOf('=');
                return eq < 0 ? KeyValuePair.Create(FormArgumentDecoder.DecodeComponent(p), "")
                    : KeyValuePair.Create(FormArgumentDecoder.DecodeComponent(p[..eq]), FormArgumentDecoder.DecodeComponent(p[(eq + 1)..]));
            });
            return FromForm(pairs, schema);
        }
        if (bytes.Length == 0) return new Body(new JsonObject(), null);
        try
        {
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
