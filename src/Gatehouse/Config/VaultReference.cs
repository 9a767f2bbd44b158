namespace Gatehouse.Config;

/// <summary>
/// A Kong vault reference, <c>{vault://&lt;vault&gt;/&lt;resource&gt;[/&lt;key&gt;][?opts][#version]}</c>, parsed as Kong's
/// <c>kong.pdk.vault</c> parses it: the vault is a strategy name (<c>env</c>) or a <c>vaults</c> entity's prefix;
/// a path of several segments names the resource and, in its last segment, a key of a JSON secret (a trailing
/// <c>/</c> keeps the whole path as the resource); the query overrides the vault's config (<c>prefix</c>).
/// </summary>
public sealed record VaultReference(string Vault, string Resource, string? Key, IReadOnlyDictionary<string, string> Options,
    int? Version)
{
    /// <summary>Kong's <c>is_reference</c>: starts with <c>{vault://</c> and ends with <c>}</c>. Only a string that looks
    /// like this is taken as a reference in a referenceable field; anything else is the value itself.</summary>
    public static bool IsReference(string? text) =>
        text is not null && text.Length >= 10 && text.StartsWith("{vault://", StringComparison.Ordinal) && text[^1] == '}';

    /// <summary>Parses a reference; null with Kong's reason when it is not one.</summary>
    public static VaultReference? Parse(string text, out string? error)
    {
        error = null;
        if (!IsReference(text)) { error = $"not a reference [{text}]"; return null; }
        var url = text[9..^1]; // after "{vault://", before "}"
        string? fragment = null, query = null;
        var hash = url.IndexOf('#');
        if (hash >= 0) { fragment = url[(hash + 1)..]; url = url[..hash]; }
        var question = url.IndexOf('?');
        if (question >= 0) { query = url[(question + 1)..]; url = url[..question]; }
        var slash = url.IndexOf('/');
        var vault = slash < 0 ? url : url[..slash];
        if (vault.Length == 0) { error = $"reference url is missing host [{text}]"; return null; }
        if (slash < 0) { error = $"reference url is missing path [{text}]"; return null; }
        var path = url[(slash + 1)..];
        if (path.Length == 0) { error = $"reference url has empty path [{text}]"; return null; }
        int? version = null;
        if (fragment is not null)
        {
            if (!int.TryParse(fragment, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var v))
            {
                error = $"reference url has invalid version [{text}]";
                return null;
            }
            version = v;
        }
        var directory = path.EndsWith('/');
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0) { error = $"reference url has invalid path [{text}]"; return null; }
        string resource;
        string? key = null;
        if (parts.Length == 1 || directory) resource = Uri.UnescapeDataString(string.Join('/', parts));
        else
        {
            resource = Uri.UnescapeDataString(string.Join('/', parts[..^1]));
            key = Uri.UnescapeDataString(parts[^1]);
        }
        return new VaultReference(vault.ToLowerInvariant(), resource, key, ParseQuery(query), version);
    }

    private static Dictionary<string, string> ParseQuery(string? query)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        if (string.IsNullOrEmpty(query)) return options;
        foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=');
            var name = Uri.UnescapeDataString((eq < 0 ? pair : pair[..eq]).Replace('+', ' '));
            options[name] = eq < 0 ? "" : Uri.UnescapeDataString(pair[(eq + 1)..].Replace('+', ' '));
        }
        return options;
    }
}
