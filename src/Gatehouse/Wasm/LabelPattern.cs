using System.Text.RegularExpressions;

namespace Gatehouse.Wasm;

/// <summary>
/// A <c>metrics.label_patterns</c> regex of a filter's meta.json, compiled one way for the start check
/// (<see cref="FilterMetadataCheck"/>) and the Prometheus exporter, so a pattern the check accepts always compiles there.
/// </summary>
internal static class LabelPattern
{
    public static Regex Create(string pattern) => new(pattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));

    public static bool TryCreate(string pattern, out Regex? regex, out string? error)
    {
        try
        {
            regex = Create(pattern);
            error = null;
            return true;
        }
        catch (ArgumentException e)
        {
            regex = null;
            error = e.Message;
            return false;
        }
    }
}
