namespace Gatehouse.Config;

/// <summary>
/// Builds <see cref="GatehouseOptions"/> from built-in defaults, an optional gatehouse.conf and the environment
/// (<c>GATEHOUSE_&lt;KEY&gt;</c>, else <c>KONG_&lt;KEY&gt;</c>). Collects every error instead of stopping at the first.
/// </summary>
public static class GatehouseConfLoader
{
    /// <summary>Kong's admin_gui_listen default is 0.0.0.0:8002 and 0.0.0.0:8445 ssl; Gatehouse's Manager listens on
    /// loopback only unless told otherwise, as its Admin API does.</summary>
    public const string DefaultAdminGuiListen = "127.0.0.1:8002";

    /// <summary>Loads from a file (null: defaults only) and the given environment (null: the process environment).</summary>
    public static ConfLoadResult Load(string? path, IReadOnlyDictionary<string, string?>? environment = null,
        string? prefixOverride = null)
    {
        var errors = new List<string>();
        string text = "";
        if (path is not null)
        {
            try { text = File.ReadAllText(path); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return new ConfLoadResult(null, [], [$"cannot read configuration file '{path}': {e.Message}"]);
            }
        }
        return LoadText(text, environment ?? ProcessEnvironment(), prefixOverride);
    }

    /// <summary>Loads from conf text; the entry point tests use.</summary>
    public static ConfLoadResult LoadText(string text, IReadOnlyDictionary<string, string?> environment,
        string? prefixOverride = null)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var errors = new List<string>();
        var warnings = new List<string>();
        // :: Step 1: file entries, last one wins (as in kong.conf); keys Gatehouse does not apply are kept aside
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var notApplied = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in ConfFileReader.Parse(text, errors))
        {
            if (ConfKeys.All.ContainsKey(entry.Key)) values[entry.Key] = entry.Value;
            else if (KongOnlyConfKeys.All.ContainsKey(entry.Key) || KongOnlyConfKeys.IsDynamic(entry.Key)) notApplied[entry.Key] = entry.Value;
            else errors.Add(UnknownKey(entry));
        }
        // :: Step 2: environment overrides, GATEHOUSE_ before KONG_, for the keys Kong reads from its environment:
        // its own keys and those under its injected-directive prefixes; other variables are no setting and stay ignored
        foreach (var key in ConfKeys.All.Keys)
            if (EnvironmentValue(environment, key) is { } env) values[key] = env;
        foreach (var key in KongOnlyConfKeys.All.Keys.Concat(DynamicKeysIn(environment)))
            if (EnvironmentValue(environment, key) is { } env) notApplied[key] = env;
        foreach (var (key, value) in notApplied)
            if (KongOnlyConfKeys.Check(key, value) is { } error) errors.Add(error);
        if (prefixOverride is not null) values["prefix"] = prefixOverride;
        // :: Step 3: apply each key (a vault reference resolved first); every bad value is reported with its key
        var options = new GatehouseOptions();
        var vaults = ConfVaults(values, environment);
        foreach (var (key, raw) in values)
        {
            var value = raw;
            if (VaultReference.IsReference(raw) && !vaults.TryResolve(raw, out value, out var vaultError))
            {
                errors.Add($"failed to dereference '{raw}': {vaultError} for config option '{key}'");
                continue;
            }
            try { options = ConfKeys.All[key](options, value); }
            catch (FormatException e) { errors.Add($"{key}: {e.Message}"); }
        }
        // :: Step 4: cross-key checks
        options = ResolveCipherSuites(options, errors);
        // Kong's default admin_gui_listen (here loopback only), when the Admin API it talks to listens
        if (!values.ContainsKey("admin_gui_listen") && options.AdminListen.Count > 0)
            options = options with { AdminGuiListen = [ListenAddress.Parse(DefaultAdminGuiListen)] };
        CheckSsl(options, errors);
        if (options.Wasm && options.WasmFiltersPath is { } p && !Directory.Exists(p) && !File.Exists(p))
            errors.Add($"wasm_filters_path: '{p}' is not a valid directory");
        options = options with { Raw = values };
        return new ConfLoadResult(errors.Count == 0 ? options : null, warnings, errors);
    }

    /// <summary>ssl_cipher_suite with ssl_ciphers (only for custom, else refused rather than ignored) and, for modern,
    /// TLS 1.3 only, as Kong's conf loader derives them.</summary>
    private static GatehouseOptions ResolveCipherSuites(GatehouseOptions o, List<string> errors)
    {
        if (o.SslCiphers is not null && o.SslCipherSuiteName != "custom")
        {
            errors.Add($"ssl_ciphers: only used with ssl_cipher_suite = custom (ssl_cipher_suite is {o.SslCipherSuiteName})");
            return o;
        }
        TlsCipherSuites suites;
        try { suites = TlsCipherSuites.Resolve(o.SslCipherSuiteName, o.SslCiphers); }
        catch (FormatException e)
        {
            errors.Add((o.SslCipherSuiteName == "custom" ? "ssl_ciphers: " : "ssl_cipher_suite: ") + e.Message);
            return o;
        }
        if (suites.OnlyProtocols is not { } only) return o with { CipherSuites = suites };
        var protocols = o.SslProtocols & only;
        if (protocols == System.Security.Authentication.SslProtocols.None)
        {
            errors.Add($"ssl_cipher_suite: {suites.Name} needs TLSv1.3 in ssl_protocols");
            return o;
        }
        return o with { CipherSuites = suites, SslProtocols = protocols };
    }

    private static void CheckSsl(GatehouseOptions o, List<string> errors)
    {
        CheckPair(o.ProxyListen.Concat(o.AdminListen).Concat(o.StatusListen), "ssl_cert", o.SslCert, o.SslCertKey, errors);
        CheckPair(o.AdminListen, "admin_ssl_cert", o.AdminSslCert, o.AdminSslCertKey, errors);
        CheckPair(o.StatusListen, "status_ssl_cert", o.StatusSslCert, o.StatusSslCertKey, errors);
        CheckPair(o.AdminGuiListen, "admin_gui_ssl_cert", o.AdminGuiSslCert, o.AdminGuiSslCertKey, errors);
        if (!o.ClientSsl)
        {
            if (o.ClientSslCert is not null || o.ClientSslCertKey is not null)
                errors.Add("client_ssl_cert: set, but client_ssl is off (nothing would present it)");
        }
        else if (o.ClientSslCert is null != (o.ClientSslCertKey is null))
            // Kong's messages
            errors.Add(o.ClientSslCert is null ? "client_ssl_cert must be specified" : "client_ssl_cert_key must be specified");
        else if (o.ClientSslCert is not null)
        {
            try { System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(o.ClientSslCert, o.ClientSslCertKey).Dispose(); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
            {
                errors.Add($"client_ssl_cert: failed loading certificate from {o.ClientSslCert} with key {o.ClientSslCertKey}: {e.Message}");
            }
        }
    }

    /// <summary>A certificate/key pair: both or neither (neither: the self-signed default, Hosting/DefaultCertificate),
    /// files that exist, and only where a listener with <c>ssl</c> uses it (set otherwise, it would be ignored).</summary>
    private static void CheckPair(IEnumerable<ListenAddress> listeners, string key, string? cert, string? certKey, List<string> errors)
    {
        if (cert is null && certKey is null) return;
        if (!listeners.Any(l => l.Ssl))
        {
            if (key != "ssl_cert") errors.Add($"{key}: set, but no {key.Replace("_ssl_cert", "", StringComparison.Ordinal)}_listen entry has 'ssl'");
            return;
        }
        if (cert is null || certKey is null)
            errors.Add($"{key}: {key} and {key}_key go together (set neither for a self-signed default under the prefix)");
        else
        {
            if (!File.Exists(cert)) errors.Add($"{key}: file '{cert}' does not exist");
            if (!File.Exists(certKey)) errors.Add($"{key}_key: file '{certKey}' does not exist");
        }
    }

    /// <summary>A key neither Gatehouse nor Kong 3.9 knows: most likely a typo, so the start stops (Kong would drop it
    /// silently) and names the nearest known key.</summary>
    private static string UnknownKey(ConfEntry entry)
    {
        var hint = ClosestConfKey.Find(entry.Key, ConfKeys.All.Keys.Concat(KongOnlyConfKeys.All.Keys));
        return $"line {entry.Line}: unknown configuration key '{entry.Key}'" + (hint is null ? "" : $" (did you mean {hint}?)");
    }

    private static string? EnvironmentValue(IReadOnlyDictionary<string, string?> environment, string key) =>
        (Lookup(environment, "GATEHOUSE_" + key.ToUpperInvariant()) ?? Lookup(environment, "KONG_" + key.ToUpperInvariant()))?.Trim();

    /// <summary>Keys under Kong's injected-directive prefixes named by GATEHOUSE_*/KONG_* variables (KONG_NGINX_HTTP_GZIP).</summary>
    private static IEnumerable<string> DynamicKeysIn(IReadOnlyDictionary<string, string?> environment) => environment.Keys
        .Select(name => name.StartsWith("GATEHOUSE_", StringComparison.OrdinalIgnoreCase) ? name["GATEHOUSE_".Length..]
            : name.StartsWith("KONG_", StringComparison.OrdinalIgnoreCase) ? name["KONG_".Length..] : null)
        .OfType<string>().Select(k => k.ToLowerInvariant())
        .Where(k => KongOnlyConfKeys.IsDynamic(k) && !ConfKeys.All.ContainsKey(k) && !KongOnlyConfKeys.All.ContainsKey(k))
        .Distinct(StringComparer.Ordinal).ToArray();

    /// <summary>The env vault as conf values see it (Kong's conf loader: vault_* keys, no vaults entities).</summary>
    private static VaultResolver ConfVaults(Dictionary<string, string> values, IReadOnlyDictionary<string, string?> environment)
    {
        var conf = new GatehouseOptions();
        foreach (var key in (string[])["vaults", "vault_env_prefix"])
            if (values.TryGetValue(key, out var v) && !VaultReference.IsReference(v))
            {
                try { conf = ConfKeys.All[key](conf, v); }
                catch (FormatException) { } // reported with the key when every key is applied
            }
        return new VaultResolver(name => Lookup(environment, name), conf.VaultEnvPrefix, conf.EnvVaultLoaded);
    }

    private static string? Lookup(IReadOnlyDictionary<string, string?> env, string name) =>
        env.TryGetValue(name, out var v) && v is not null ? v : null;

    private static Dictionary<string, string?> ProcessEnvironment()
    {
        var result = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables())
            result[(string)e.Key] = e.Value as string;
        return result;
    }
}
