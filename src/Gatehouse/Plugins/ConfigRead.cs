using System.Text.Json.Nodes;
using Gatehouse.Entities;

namespace Gatehouse.Plugins;

/// <summary>Typed reads from a validated plugin config.</summary>
public static class ConfigRead
{
    public static string? String(JsonObject c, string name) => EntityJson.String(c, name);
    public static long? Long(JsonObject c, string name) => EntityJson.Long(c, name);
    public static double? Number(JsonObject c, string name) => EntityJson.TryNumber(c[name], out var d) ? d : null;
    public static bool Bool(JsonObject c, string name, bool fallback = false) => EntityJson.Bool(c, name) ?? fallback;
    public static IReadOnlyList<string> Strings(JsonObject c, string name) => EntityJson.Strings(c, name);
    public static JsonObject? Record(JsonObject c, string name) => c[name] as JsonObject;
}
