using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Entities;

namespace Gatehouse.Store.Declarative;

/// <summary>
/// Kong 3.x's on-the-fly migration of a <c>_format_version</c> "1.1" or "2.1" file (kong/db/declarative/migrations):
/// before 3.0 a route path was a regex whenever it looked like one, from 3.0 only with a <c>~</c> prefix. The paths of
/// top-level routes and of routes nested in top-level services are rewritten, then the file is read as "3.0":
/// <list type="bullet">
/// <item>a path made only of <c>A-Z a-z 0-9 . - _ ~ / %</c> is plain: it is normalized (escapes of unreserved
/// characters decoded, the others upper-cased, dot segments resolved, slashes merged);</item>
/// <item>any other path is a regex: it gets the <c>~</c> prefix, and its escapes are decoded one last time
/// (a reserved character stays an upper-case escape, a regex metacharacter becomes its escaped form, anything else
/// the character), since 3.x no longer decodes route paths. Validation then compiles it like any regex path, so
/// an invalid regex is refused.</item>
/// </list>
/// Kong rewrites silently; Gatehouse also reports each rewritten path as a warning.
/// </summary>
internal static class LegacyRoutePaths
{
    /// <summary>True when <paramref name="formatVersion"/> is one whose paths are migrated.</summary>
    public static bool Applies(string? formatVersion) => formatVersion is "1.1" or "2.1";

    /// <summary>Rewrites the paths in place and returns one warning per path that changed.</summary>
    public static List<string> Migrate(JsonObject config)
    {
        var warnings = new List<string>();
        MigrateRoutes(config["routes"], warnings);
        if (config["services"] is JsonArray services)
            foreach (var service in services)
                if (service is JsonObject s) MigrateRoutes(s["routes"], warnings);
        return warnings;
    }

    private static void MigrateRoutes(JsonNode? routes, List<string> warnings)
    {
        if (routes is not JsonArray list) return;
        foreach (var route in list)
        {
            if (route is not JsonObject r || r["paths"] is not JsonArray paths) continue;
            for (var i = 0; i < paths.Count; i++)
            {
                if (paths[i] is not JsonValue v || !v.TryGetValue<string>(out var path)) continue;
                var migrated = Migrate(path);
                if (migrated == path) continue;
                paths[i] = migrated;
                warnings.Add(migrated.StartsWith('~')
                    ? $"route path '{path}' is read as the regex '{migrated}' (format {FormatNote})"
                    : $"route path '{path}' is read as '{migrated}' (format {FormatNote})");
            }
        }
    }

    private const string FormatNote = "1.1/2.1 paths are migrated to 3.0, as Kong 3.x does";

    /// <summary>One path, Kong's <c>migrate_path</c> rule.</summary>
    public static string Migrate(string path) =>
        IsPlain(path) ? NormalizePlain(path) : "~" + DecodeForRegex(path);

    private static bool IsPlain(string path)
    {
        foreach (var c in path)
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' or '~' or '/' or '%')) return false;
        return true;
    }

    private static string NormalizePlain(string path)
    {
        if (path is "" or "/" || PathValidation.ValidatePercentEncoding(path) is not null) return path; // validation reports it
        var merged = path;
        while (merged.Contains("//", StringComparison.Ordinal)) merged = merged.Replace("//", "/", StringComparison.Ordinal);
        return path.StartsWith('/') ? PathValidation.Normalize(merged) : path;
    }

    private const string Reserved = "!#$%&'()*+,/:;=?@[]";

    private static string DecodeForRegex(string path)
    {
        if (!path.Contains('%')) return path;
        var sb = new StringBuilder(path.Length);
        for (var i = 0; i < path.Length; i++)
        {
            if (path[i] == '%' && i + 2 < path.Length && Uri.IsHexDigit(path[i + 1]) && Uri.IsHexDigit(path[i + 2]))
            {
                var c = (char)byte.Parse(path.AsSpan(i + 1, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                if (c >= 0x80) sb.Append(path, i, 3); // one byte of a UTF-8 sequence: left encoded
                else if (Reserved.Contains(c)) sb.Append('%').Append(char.ToUpperInvariant(path[i + 1])).Append(char.ToUpperInvariant(path[i + 2]));
                else if (c is '.' or '^' or '-' or '{' or '}' or '\\' or '|') sb.Append('\\').Append(c);
                else sb.Append(c);
                i += 2;
            }
            else sb.Append(path[i]);
        }
        return sb.ToString();
    }
}
