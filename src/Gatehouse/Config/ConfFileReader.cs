namespace Gatehouse.Config;

/// <summary>One <c>key = value</c> line of a kong.conf-style file, with its line number for messages.</summary>
public sealed record ConfEntry(string Key, string Value, int Line);

/// <summary>
/// Reads kong.conf syntax: <c>key = value</c>, <c>#</c> starts a comment (write <c>\#</c> for a literal one),
/// blank lines ignored. Keys are case-insensitive and normalised to lower case.
/// </summary>
public static class ConfFileReader
{
    /// <summary>Parses the text; malformed lines are returned in <paramref name="errors"/> rather than thrown,
    /// so that every problem in a file is reported at once.</summary>
    public static IReadOnlyList<ConfEntry> Parse(string text, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(errors);
        var entries = new List<ConfEntry>();
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = StripComment(lines[i]).Trim();
            if (line.Length == 0) continue;
            var eq = line.IndexOf('=');
            if (eq <= 0)
            {
                errors.Add($"line {i + 1}: expected 'key = value', got '{line}'");
                continue;
            }
            var key = line[..eq].Trim().ToLowerInvariant();
            var value = line[(eq + 1)..].Trim();
            entries.Add(new ConfEntry(key, value, i + 1));
        }
        return entries;
    }

    private static string StripComment(string line)
    {
        var sb = new System.Text.StringBuilder(line.Length);
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (c == '\\' && i + 1 < line.Length && line[i + 1] == '#') { sb.Append('#'); i++; continue; }
            if (c == '#') break;
            if (c == '\r') continue;
            sb.Append(c);
        }
        return sb.ToString();
    }
}
