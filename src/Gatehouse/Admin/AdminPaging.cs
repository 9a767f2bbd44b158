using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Entities;
using Gatehouse.Plugins.Bodies;
using Gatehouse.Store;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Admin;

/// <summary>
/// Paging and filtering of collection endpoints as Kong does it: <c>size</c> (1..1000, default 100),
/// an opaque <c>offset</c> token, <c>tags</c> (a,b = all; a/b = any) and the <c>next</c> link.
/// </summary>
internal static class AdminPaging
{
    public const int DefaultSize = 100;
    public const int MaxSize = 1000;

    public static DbError? TryParse(IQueryCollection query, string? rawQuery, ForeignFilter? foreign, out PageQuery page)
    {
        page = new PageQuery(DefaultSize, Foreign: foreign);
        if (ParseSize(query, out var size) is { } sizeError) return sizeError;
        Guid? after = null;
        if (query.TryGetValue("offset", out var offsetText))
        {
            if (DecodeOffset(offsetText.ToString()) is not { } decoded)
                return new DbError(DbErrorCode.InvalidOffset, $"'{offsetText}' is not a valid offset: bad base64 encoding");
            after = decoded;
        }
        TagFilter? tags = null;
        if (query.ContainsKey("tags") && ParseTags(rawQuery, out tags) is { } error) return error;
        page = new PageQuery(size, after, tags, foreign);
        return null;
    }

    /// <summary><c>?size=</c>: 1..1000, default 100.</summary>
    public static DbError? ParseSize(IQueryCollection query, out int size)
    {
        size = DefaultSize;
        if (!query.TryGetValue("size", out var sizeText)) return null;
        if (!double.TryParse(sizeText.ToString(), System.Globalization.CultureInfo.InvariantCulture, out var d))
            return new DbError(DbErrorCode.InvalidSize, "size must be a number");
        if (d != Math.Floor(d) || d < 1 || d > MaxSize)
            return new DbError(DbErrorCode.InvalidSize, $"size must be an integer between 1 and {MaxSize}");
        size = (int)d;
        return null;
    }

    public static JsonObject Response(IEnumerable<JsonObject> items, Guid? last, string basePath, IQueryCollection query, bool nested)
    {
        var body = new JsonObject { ["data"] = new JsonArray([.. items]) };
        if (last is not { } lastId) { body["next"] = null; return body; }
        var token = EncodeOffset(lastId);
        var next = new StringBuilder(basePath).Append("?offset=").Append(Uri.EscapeDataString(token));
        if (!nested)
        {
            if (query.TryGetValue("tags", out var tags)) next.Append("&tags=").Append(Uri.EscapeDataString(tags.ToString()));
            if (query.TryGetValue("size", out var size)) next.Append("&size=").Append(Uri.EscapeDataString(size.ToString()));
        }
        body["next"] = next.ToString();
        body["offset"] = token;
        return body;
    }

    private static string EncodeOffset(Guid last) => Convert.ToBase64String(Encoding.UTF8.GetBytes(last.ToString("D")));

    private static Guid? DecodeOffset(string token)
    {
        var buffer = new byte[token.Length];
        if (!Convert.TryFromBase64String(token, buffer, out var n)) return null;
        return Guid.TryParseExact(Encoding.UTF8.GetString(buffer, 0, n), "D", out var g) ? g : null;
    }

    /// <summary>
    /// <c>?tags=</c> as Kong reads it (<c>endpoints.extract_options</c>, <c>dao.validate_options_value</c>): the first
    /// <c>tags</c> argument, percent-decoded to bytes; <c>a,b</c> (all) or <c>a/b</c> (any) of tag bytes (printable
    /// ASCII including the space except <c>,</c> and <c>/</c>, and 0x80-0xF4), a trailing separator dropped; anything
    /// else, invalid UTF-8 lead bytes such as <c>%FF</c> included, is "invalid filter syntax"; at most 5 tags.
    /// </summary>
    private static DbError? ParseTags(string? rawQuery, out TagFilter? filter)
    {
        filter = null;
        var text = FormUrlEncoded.Parse(rawQuery).FirstOrDefault(f => f.Name == "tags")?.Value ?? "";
        if (text.Length == 0) return InvalidTags("cannot be null");
        var bytes = FormUrlEncoded.Bytes(text);
        char? separator = null;
        foreach (var b in bytes)
        {
            if (IsTagByte(b)) continue;
            if (b is not ((byte)',' or (byte)'/') || (separator is { } s && s != b)) return InvalidTags("invalid filter syntax");
            separator = (char)b;
        }
        var list = separator is { } sep ? text.Split(sep) : [text];
        if (list[^1].Length == 0) list = list[..^1]; // "a," is "a" (penlight's split drops a trailing empty piece)
        if (list.Length == 0 || list.Any(t => t.Length == 0)) return InvalidTags("invalid filter syntax");
        if (list.Length > 5) return InvalidTags("cannot query more than 5 tags");
        filter = new TagFilter(list, MatchAll: separator != '/');
        return null;
    }

    private static bool IsTagByte(byte b) => b is >= 0x20 and <= 0x7E and not ((byte)',' or (byte)'/') or >= 0x80 and <= 0xF4;

    private static DbError InvalidTags(string why) =>
        new(DbErrorCode.InvalidOptions, $"invalid option (tags: {why})", new JsonObject { ["tags"] = why });
}
