using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gatehouse.Plugins.Bodies;

/// <summary>
/// <c>kong.request.get_body</c> for the three types Kong parses — <c>application/json</c> (an object),
/// <c>application/x-www-form-urlencoded</c> and <c>multipart/form-data</c> — with what
/// <c>kong.service.request.set_body</c> needs to send a changed copy upstream: <see cref="Remove"/> then
/// <see cref="ToBytes"/>. Form bodies are edited segment by segment and multipart bodies part by part, so what is not
/// removed reaches the upstream as sent (Kong re-encodes the whole table: sorted names, plain parts).
/// </summary>
public sealed class RequestBody
{
    private readonly JsonObject? _json;
    private readonly List<FormUrlEncoded.Field>? _form;
    private readonly MultipartBody? _multipart;

    private RequestBody(JsonObject? json, List<FormUrlEncoded.Field>? form, MultipartBody? multipart)
    {
        _json = json;
        _form = form;
        _multipart = multipart;
    }

    /// <summary>Parses <paramref name="raw"/> by <paramref name="contentType"/>; null for other types or bodies
    /// that do not parse (Kong: "Cannot process request body").</summary>
    public static RequestBody? Parse(string? contentType, byte[] raw)
    {
        ArgumentNullException.ThrowIfNull(raw);
        if (contentType is null) return null;
        if (contentType.Contains("application/json", StringComparison.OrdinalIgnoreCase))
        {
            try { return JsonNode.Parse(raw) is JsonObject o ? new RequestBody(o, null, null) : null; }
            catch (JsonException) { return null; }
        }
        if (contentType.Contains("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase))
            return new RequestBody(null, [.. FormUrlEncoded.Parse(raw)], null);
        if (contentType.Contains("multipart/form-data", StringComparison.OrdinalIgnoreCase))
            return MultipartBody.Parse(raw, contentType) is { } m ? new RequestBody(null, null, m) : null;
        return null;
    }

    /// <summary>A field as Kong's Lua sees it: <see cref="BodyField.Text"/> for one string value,
    /// <see cref="BodyField.Many"/> for a repeated form field or a JSON array/object, else absent (numbers,
    /// booleans, valueless form fields are not strings).</summary>
    public BodyField Field(string name, out string? value)
    {
        value = null;
        if (_json is not null)
        {
            return _json[name] switch
            {
                JsonValue v when v.GetValueKind() == JsonValueKind.String => Text(v.GetValue<string>(), out value),
                JsonArray or JsonObject => BodyField.Many,
                _ => BodyField.Absent,
            };
        }
        if (_form is not null)
        {
            var matches = _form.Where(f => f.Name == name).ToList();
            if (matches.Count > 1) return BodyField.Many;
            return matches.Count == 1 && matches[0].Value is { } v ? Text(v, out value) : BodyField.Absent;
        }
        return _multipart!.Get(name) is { } part ? Text(part.Text, out value) : BodyField.Absent;
    }

    private static BodyField Text(string text, out string? value)
    {
        value = text;
        return BodyField.Text;
    }

    /// <summary>Removes every occurrence of the field; false when there was none.</summary>
    public bool Remove(string name)
    {
        if (_json is not null) return _json.Remove(name);
        if (_form is not null) return _form.RemoveAll(f => f.Name == name) > 0;
        var removed = false;
        while (_multipart!.Delete(name)) removed = true;
        return removed;
    }

    public byte[] ToBytes()
    {
        if (_json is not null) return Encoding.UTF8.GetBytes(_json.ToJsonString());
        if (_form is not null) return FormUrlEncoded.Bytes(string.Join('&', _form.Select(f => f.Raw)));
        return _multipart!.ToBytes();
    }
}

/// <summary>How a body field looks to Kong's Lua: absent (or not a string), one string, or a table.</summary>
public enum BodyField { Absent, Text, Many }
