using System.Text.Json;

namespace Gatehouse.Config;

/// <summary>A <c>vaults</c> entity as references use it: its <paramref name="Prefix"/> is the vault part of a reference,
/// <paramref name="Strategy"/> its <c>name</c> (<c>env</c>), <paramref name="EnvPrefix"/> its <c>config.prefix</c>.</summary>
public sealed record NamedVault(string Prefix, string Strategy, string? EnvPrefix);

/// <summary>
/// Resolves vault references with Kong's <c>env</c> vault, the only one Gatehouse bundles: the variable read is the
/// vault's <c>prefix</c> (from the reference's <c>?prefix=</c>, else the named vault's <c>config.prefix</c>, else
/// <c>vault_env_prefix</c> for <c>{vault://env/…}</c>) followed by the resource, upper-cased with <c>-</c> turned into
/// <c>_</c> (version 2 appends <c>_PREVIOUS</c>), as Kong's <c>kong/vaults/env</c>. A key part reads that key of the
/// variable's JSON object. Errors name the reference and the variable, never a value.
/// </summary>
public sealed class VaultResolver
{
    public const string EnvStrategy = "env";

    private readonly Func<string, string?> _environment;
    private readonly string? _envPrefix;
    private readonly bool _envLoaded;
    private readonly IReadOnlyDictionary<string, NamedVault> _named;

    /// <param name="environment">reads one environment variable (null: not set)</param>
    /// <param name="envPrefix">the conf key <c>vault_env_prefix</c></param>
    /// <param name="envLoaded">false when the conf key <c>vaults</c> is <c>off</c></param>
    public VaultResolver(Func<string, string?> environment, string? envPrefix = null, bool envLoaded = true,
        IReadOnlyDictionary<string, NamedVault>? named = null)
    {
        _environment = environment ?? throw new ArgumentNullException(nameof(environment));
        _envPrefix = envPrefix;
        _envLoaded = envLoaded;
        _named = named ?? new Dictionary<string, NamedVault>();
    }

    /// <summary>The process environment with the node's vault conf keys.</summary>
    public static VaultResolver ForNode(GatehouseOptions options) =>
        new(Environment.GetEnvironmentVariable, options.VaultEnvPrefix, options.EnvVaultLoaded);

    /// <summary>The same environment and conf with the configuration's <c>vaults</c> entities.</summary>
    public VaultResolver WithNamed(IEnumerable<NamedVault> vaults) =>
        new(_environment, _envPrefix, _envLoaded, vaults.ToDictionary(v => v.Prefix, StringComparer.Ordinal));

    public bool TryResolve(string reference, out string value, out string error)
    {
        value = "";
        var parsed = VaultReference.Parse(reference, out var parseError);
        if (parsed is null) { error = $"could not parse reference {reference} ({parseError})"; return false; }
        string? prefix;
        if (parsed.Vault == EnvStrategy && _envLoaded) prefix = _envPrefix;
        else if (_named.TryGetValue(parsed.Vault, out var named) && named.Strategy == EnvStrategy && _envLoaded) prefix = named.EnvPrefix;
        else { error = $"could not find vault ({parsed.Vault})"; return false; }
        if (parsed.Options.TryGetValue("prefix", out var optionPrefix)) prefix = optionPrefix;

        var variable = ((prefix ?? "") + parsed.Resource).ToUpperInvariant().Replace('-', '_');
        if (parsed.Version == 2) variable += "_PREVIOUS";
        var secret = _environment(variable);
        if (secret is null) { error = $"no value found (environment variable {variable} is not set)"; return false; }
        if (parsed.Key is null) { value = secret; error = ""; return true; }
        return TryKey(secret, parsed.Key, variable, out value, out error);
    }

    /// <summary>Kong's <c>extract_key_from_json_string</c>: a flat JSON object's string member.</summary>
    private static bool TryKey(string secret, string key, string variable, out string value, out string error)
    {
        value = "";
        try
        {
            using var json = JsonDocument.Parse(secret);
            if (json.RootElement.ValueKind != JsonValueKind.Object) { error = $"unable to json decode value of {variable}: not an object"; return false; }
            if (!json.RootElement.TryGetProperty(key, out var member)) { error = $"subfield {key} not found in JSON secret"; return false; }
            if (member.ValueKind != JsonValueKind.String) { error = $"unexpected {member.ValueKind.ToString().ToLowerInvariant()} value in JSON secret for subfield {key}"; return false; }
            value = member.GetString()!;
            error = "";
            return true;
        }
        catch (JsonException)
        {
            error = $"unable to json decode value of {variable}";
            return false;
        }
    }
}
