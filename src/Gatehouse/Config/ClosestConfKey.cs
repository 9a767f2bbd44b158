namespace Gatehouse.Config;

/// <summary>The known conf key nearest to a misspelt one (edit distance), for "did you mean …?" in the error.</summary>
internal static class ClosestConfKey
{
    /// <summary>The nearest of <paramref name="known"/> within a few edits (more for longer keys), else null.</summary>
    public static string? Find(string key, IEnumerable<string> known)
    {
        var limit = Math.Max(2, key.Length / 5);
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in known)
        {
            var d = Distance(key, candidate);
            if (d <= limit && d < bestDistance) (best, bestDistance) = (candidate, d);
        }
        return best;
    }

    /// <summary>Levenshtein distance (insert, delete, substitute).</summary>
    private static int Distance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++) previous[j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
                current[j] = Math.Min(Math.Min(current[j - 1], previous[j]) + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}
