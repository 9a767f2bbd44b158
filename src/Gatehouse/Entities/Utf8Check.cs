namespace Gatehouse.Entities;

/// <summary>
/// Finds invalid UTF-8 in decoded text. Inputs decoded leniently (form bodies, JSON escapes) carry lone
/// surrogates where the bytes were not UTF-8; Kong reports those as invalid sequences, so do we.
/// </summary>
internal static class Utf8Check
{
    /// <summary>1-based character position of the first lone surrogate, or null when the text is valid.</summary>
    public static int? FirstInvalidPosition(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) { i++; continue; }
            if (char.IsSurrogate(c)) return i + 1;
        }
        return null;
    }
}
