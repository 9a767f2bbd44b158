using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Gatehouse.Plugins.Bodies;

namespace Gatehouse.Plugins.Bundled.Transformers;

/// <summary>
/// request-transformer's body changes (Kong 3.x): on <c>application/json</c> object bodies and
/// <c>application/x-www-form-urlencoded</c> bodies, remove, rename, replace, add, append in that order
/// (<c>multipart/form-data</c>: see <see cref="Multipart"/>); an empty body
/// counts as an empty object/form (so add/append create one); a body that does not parse, or another content type, is
/// left untouched. The new body replaces the request's, with its Content-Length (chunked framing dropped).
/// </summary>
internal static class RequestBodyTransform
{
    /// <summary>Whether the request's Content-Type is one whose body Kong transforms.</summary>
    public static bool Applies(HttpRequest request) => request.ContentType is { } type
        && (type.Contains("application/json", StringComparison.OrdinalIgnoreCase)
            || type.Contains("multipart/form-data", StringComparison.OrdinalIgnoreCase)
            || type.Contains("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase));

    public static async ValueTask ApplyAsync(TransformSpec spec, HttpRequest request, CancellationToken cancel)
    {
        var type = request.ContentType;
        if (type is null) return;
        var json = type.Contains("application/json", StringComparison.OrdinalIgnoreCase);
        var multipart = !json && type.Contains("multipart/form-data", StringComparison.OrdinalIgnoreCase);
        var form = !json && !multipart && type.Contains("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase);
        if (!json && !form && !multipart) return;

        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, cancel);
        var raw = buffer.ToArray();
        var changed = json ? Json(spec, raw) : form ? Form(spec, raw) : Multipart(spec, raw, type);
        KongRequest.ReplaceBody(request, changed ?? raw);
    }

    /// <summary>Kong's multipart rules (lua-multipart): rename, remove, replace (only on a non-empty body), then add;
    /// renamed, replaced and added fields become plain parts (replaced ones move to the end); <c>append</c> does not
    /// apply to multipart bodies. Other parts are written back as sent, with the request's boundary.</summary>
    private static byte[]? Multipart(TransformSpec spec, byte[] raw, string contentType)
    {
        if (MultipartBody.Parse(raw, contentType) is not { } body) return null;
        var changed = false;
        if (raw.Length > 0)
        {
            foreach (var (from, to) in spec.Rename)
            {
                if (from == to || body.Get(from) is not { } part) continue;
                body.SetSimple(to, part.Text);
                body.Delete(from);
                changed = true;
            }
            foreach (var name in spec.Remove)
            {
                body.Delete(name);
                changed = true; // Kong re-encodes once a remove list applied
            }
            foreach (var (name, value) in spec.Replace)
            {
                if (!body.Delete(name)) continue;
                body.SetSimple(name, value);
                changed = true;
            }
        }
        foreach (var (name, value) in spec.Add)
        {
            if (body.Get(name) is not null) continue;
            body.SetSimple(name, value);
            changed = true;
        }
        return changed ? body.ToBytes() : null;
    }

    private static byte[]? Json(TransformSpec spec, byte[] raw)
    {
        JsonObject body;
        if (raw.Length == 0) body = [];
        else
        {
            try
            {
                if (JsonNode.Parse(raw) is not JsonObject parsed) return null;
                body = parsed;
            }
            catch (JsonException)
            {
                return null;
            }
        }
        JsonTransform.Apply(spec, body);
        return Encoding.UTF8.GetBytes(body.ToJsonString());
    }

    private static byte[] Form(TransformSpec spec, byte[] raw)
    {
        var fields = FormUrlEncoded.Grouped(FormUrlEncoded.Parse(raw));
        int Find(string name) => fields.FindIndex(f => f.Name == name);

        foreach (var name in spec.Remove) fields.RemoveAll(f => f.Name == name);
        foreach (var (from, to) in spec.Rename)
        {
            var i = Find(from);
            if (i < 0) continue;
            var values = fields[i].Values;
            fields.RemoveAt(i);
            fields.RemoveAll(f => f.Name == to);
            fields.Add((to, values));
        }
        foreach (var (name, value) in spec.Replace)
            if (Find(name) is var i and >= 0) fields[i] = (name, [value]);
        foreach (var (name, value) in spec.Add)
            if (Find(name) < 0) fields.Add((name, [value]));
        foreach (var (name, value) in spec.Append)
        {
            if (Find(name) is var i and >= 0) fields[i].Values.Add(value);
            else fields.Add((name, [value]));
        }

        var sb = new StringBuilder();
        foreach (var (name, values) in fields)
            foreach (var value in values)
                sb.Append(sb.Length == 0 ? "" : "&").Append(FormUrlEncoded.Encode(name)).Append('=').Append(FormUrlEncoded.Encode(value));
        return Encoding.ASCII.GetBytes(sb.ToString());
    }
}
