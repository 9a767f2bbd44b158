namespace Gatehouse.Config;

/// <summary>
/// The one table of known gatehouse.conf keys: each key's parser applies a raw value to the options or
/// throws <see cref="FormatException"/> with a message (the loader prefixes the key name).
/// </summary>
internal static class ConfKeys
{
    internal delegate GatehouseOptions Apply(GatehouseOptions options, string value);

    internal static readonly IReadOnlyDictionary<string, Apply> All = new Dictionary<string, Apply>(StringComparer.Ordinal)
    {
        ["prefix"] = (o, v) => o with { Prefix = NonEmpty(v) },
        ["proxy_listen"] = (o, v) => o with { ProxyListen = Listen(v, allowOff: true) },
        ["admin_listen"] = (o, v) => o with { AdminListen = Listen(v, allowOff: true) },
        ["status_listen"] = (o, v) => o with { StatusListen = Listen(v, allowOff: true) },
        ["admin_gui_listen"] = (o, v) => o with { AdminGuiListen = Listen(v, allowOff: true) },
        ["admin_gui_api_url"] = (o, v) => o with { AdminGuiApiUrl = v is "" or "NONE" ? null : AdminAccess.ApiUrl(v) },
        ["admin_gui_url"] = (o, v) => o with { AdminGuiUrl = AdminAccess.GuiUrls(List(v)) },
        ["admin_gui_origin"] = (o, v) => o with { AdminGuiOrigin = AdminAccess.Origins(List(v)) },
        ["admin_allowed_hosts"] = (o, v) => o with { AdminAllowedHosts = AdminAccess.AllowedHosts(List(v)) },
        ["admin_token"] = (o, v) => o with { AdminToken = AdminAccess.Token(v) },
        ["ssl_cert"] = (o, v) => o with { SslCert = NullIfEmpty(v) },
        ["ssl_cert_key"] = (o, v) => o with { SslCertKey = NullIfEmpty(v) },
        ["admin_ssl_cert"] = (o, v) => o with { AdminSslCert = NullIfEmpty(v) },
        ["admin_gui_ssl_cert"] = (o, v) => o with { AdminGuiSslCert = NullIfEmpty(v) },
        ["admin_gui_ssl_cert_key"] = (o, v) => o with { AdminGuiSslCertKey = NullIfEmpty(v) },
        ["admin_ssl_cert_key"] = (o, v) => o with { AdminSslCertKey = NullIfEmpty(v) },
        ["status_ssl_cert"] = (o, v) => o with { StatusSslCert = NullIfEmpty(v) },
        ["status_ssl_cert_key"] = (o, v) => o with { StatusSslCertKey = NullIfEmpty(v) },
        ["ssl_protocols"] = (o, v) => o with { SslProtocols = TlsProtocols(v) },
        // resolved together once every key is read (GatehouseConfLoader): ssl_ciphers only counts with custom
        ["ssl_cipher_suite"] = (o, v) => o with { SslCipherSuiteName = NonEmpty(v) },
        ["ssl_ciphers"] = (o, v) => o with { SslCiphers = v is "" or "NONE" ? null : v },
        // vault references (Config/VaultResolver): env is the one bundled vault
        ["vaults"] = (o, v) => o with { EnvVaultLoaded = Vaults(v) },
        ["vault_env_prefix"] = (o, v) => o with { VaultEnvPrefix = NullIfEmpty(v) },
        ["database"] = (o, v) => o with { Database = Database(v) },
        ["sqlite_path"] = (o, v) => o with { SqlitePath = NullIfEmpty(v) },
        // database = postgres (PostgresOptions); pg_ro_* name a read replica
        ["pg_host"] = (o, v) => o with { Postgres = o.Postgres with { Host = NonEmpty(v) } },
        ["pg_port"] = (o, v) => o with { Postgres = o.Postgres with { Port = Port(v) } },
        ["pg_user"] = (o, v) => o with { Postgres = o.Postgres with { User = NonEmpty(v) } },
        ["pg_password"] = (o, v) => o with { Postgres = o.Postgres with { Password = NullIfEmpty(v) } },
        ["pg_database"] = (o, v) => o with { Postgres = o.Postgres with { Database = NonEmpty(v) } },
        ["pg_schema"] = (o, v) => o with { Postgres = o.Postgres with { Schema = NullIfEmpty(v) } },
        ["pg_ssl"] = (o, v) => o with { Postgres = o.Postgres with { Ssl = Bool(v) } },
        ["pg_ssl_verify"] = (o, v) => o with { Postgres = o.Postgres with { SslVerify = Bool(v) } },
        ["pg_timeout"] = (o, v) => o with { Postgres = o.Postgres with { Timeout = Milliseconds(v) } },
        ["pg_max_concurrent_queries"] = (o, v) => o with { Postgres = o.Postgres with { MaxConcurrentQueries = Count(v, min: 0) } },
        ["pg_pool_size"] = (o, v) => o with { Postgres = o.Postgres with { PoolSize = Count(v, min: 1) } },
        ["pg_ro_host"] = (o, v) => o with { Postgres = o.Postgres with { ReadOnly = o.Postgres.ReadOnly with { Host = NullIfEmpty(v) } } },
        ["pg_ro_port"] = (o, v) => o with { Postgres = o.Postgres with { ReadOnly = o.Postgres.ReadOnly with { Port = Port(v) } } },
        ["pg_ro_user"] = (o, v) => o with { Postgres = o.Postgres with { ReadOnly = o.Postgres.ReadOnly with { User = NullIfEmpty(v) } } },
        ["pg_ro_password"] = (o, v) => o with { Postgres = o.Postgres with { ReadOnly = o.Postgres.ReadOnly with { Password = NullIfEmpty(v) } } },
        ["pg_ro_database"] = (o, v) => o with { Postgres = o.Postgres with { ReadOnly = o.Postgres.ReadOnly with { Database = NullIfEmpty(v) } } },
        ["pg_ro_schema"] = (o, v) => o with { Postgres = o.Postgres with { ReadOnly = o.Postgres.ReadOnly with { Schema = NullIfEmpty(v) } } },
        ["pg_ro_ssl"] = (o, v) => o with { Postgres = o.Postgres with { ReadOnly = o.Postgres.ReadOnly with { Ssl = Bool(v) } } },
        ["pg_ro_ssl_verify"] = (o, v) => o with { Postgres = o.Postgres with { ReadOnly = o.Postgres.ReadOnly with { SslVerify = Bool(v) } } },
        ["pg_ro_timeout"] = (o, v) => o with { Postgres = o.Postgres with { ReadOnly = o.Postgres.ReadOnly with { Timeout = Milliseconds(v) } } },
        ["pg_ro_max_concurrent_queries"] = (o, v) => o with { Postgres = o.Postgres with { ReadOnly = o.Postgres.ReadOnly with { MaxConcurrentQueries = Count(v, min: 0) } } },
        ["pg_semaphore_timeout"] = (o, v) => o with { Postgres = o.Postgres with { SemaphoreTimeout = Milliseconds(v) } },
        ["pg_ro_semaphore_timeout"] = (o, v) => o with { Postgres = o.Postgres with { ReadOnly = o.Postgres.ReadOnly with { SemaphoreTimeout = Milliseconds(v) } } },
        ["pg_ro_pool_size"] = (o, v) => o with { Postgres = o.Postgres with { ReadOnly = o.Postgres.ReadOnly with { PoolSize = Count(v, min: 1) } } },
        // Kong 3.9's other pg keys: not implemented, so setting them stops the start (docs/cluster.md)
        ["pg_keepalive_timeout"] = (_, _) => throw NotImplementedPgKey("idle pooled connections are closed after 300 s"),
        ["pg_ro_keepalive_timeout"] = (_, _) => throw NotImplementedPgKey("idle pooled connections are closed after 300 s"),
        ["pg_backlog"] = (_, _) => throw NotImplementedPgKey("a query waits for a pooled connection until pg_timeout"),
        ["pg_ro_backlog"] = (_, _) => throw NotImplementedPgKey("a query waits for a pooled connection until pg_ro_timeout"),
        // change propagation between nodes sharing a PostgreSQL database (Store/Postgres/PostgresClusterEvents)
        ["db_update_frequency"] = (o, v) => o with { DbUpdateFrequency = Seconds(v) is { Ticks: > 0 } f ? f : throw new FormatException($"'{v}' must be a number of seconds above 0") },
        ["db_update_propagation"] = (o, v) => o with { DbUpdatePropagation = Seconds(v) },
        ["declarative_config"] = (o, v) => o with { DeclarativeConfig = NullIfEmpty(v) },
        ["log_level"] = (o, v) => o with { LogLevel = LogLevel(v) },
        ["proxy_access_log"] = (o, v) => o with { ProxyAccessLog = Off(v) ? null : NonEmpty(v) },
        ["headers"] = (o, v) => o with { Headers = HeaderTokens(v) },
        ["allow_debug_header"] = (o, v) => o with { AllowDebugHeader = Bool(v) },
        ["request_debug"] = (o, v) => o with { RequestDebug = Bool(v) },
        ["request_debug_token"] = (o, v) => o with { RequestDebugToken = NullIfEmpty(v) },
        // the opentelemetry plugin (docs/observability.md)
        ["tracing_instrumentations"] = (o, v) => o with { TracingInstrumentations = Instrumentations(v) },
        ["tracing_sampling_rate"] = (o, v) => o with
        {
            TracingSamplingRate = double.TryParse(v, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var rate) && rate is >= 0 and <= 1
                ? rate : throw new FormatException($"'{v}' must be a number between 0 and 1"),
        },
        ["inline_io"] = (o, v) => o with { InlineIo = Bool(v) },
        ["wasm"] = (o, v) => o with { Wasm = Bool(v) },
        ["wasm_filters_path"] = (o, v) => o with { WasmFiltersPath = NullIfEmpty(v) },
        ["wasm_filters"] = (o, v) => o with { WasmFilters = WasmFilterList(v) },
        // Gatehouse's own (docs/proxy-wasm-host.md "Contexts per VM")
        ["wasm_contexts_per_vm"] = (o, v) => o with { WasmContextsPerVm = Count(v, min: 0) },
        ["wasm_max_vms_per_filter"] = (o, v) => o with { WasmMaxVmsPerFilter = Count(v, min: 1) },
        ["node_id"] = (o, v) => o with { NodeId = NodeId(v) },
        ["plugins"] = (o, v) => o with { Plugins = PluginList(v) },
        ["admin_client_max_body_size"] = (o, v) => o with { AdminClientMaxBodySize = NginxSize(v) },
        // Kong's injected-directive name for the same setting.
        ["nginx_admin_client_max_body_size"] = (o, v) => o with { AdminClientMaxBodySize = NginxSize(v) },
        // Kong injects nginx_http_* as http-block directives; Kestrel's limits are likewise server-wide
        ["nginx_http_client_header_timeout"] = (o, v) => o with { ClientHeaderTimeout = NginxTime(v) },
        ["nginx_http_keepalive_timeout"] = (o, v) => o with { KeepaliveTimeout = NginxTime(v) },
        // nginx's proxy_ssl_* in Kong's proxy server block: the upstream TLS defaults of https services (docs/tls.md)
        ["nginx_proxy_proxy_ssl_verify"] = (o, v) => o with { ProxySslVerify = Bool(v) },
        ["nginx_proxy_proxy_ssl_trusted_certificate"] = (o, v) => o with { ProxySslTrustedCertificate = TrustedCertificateFile(v) },
        ["client_ssl"] = (o, v) => o with { ClientSsl = Bool(v) },
        ["client_ssl_cert"] = (o, v) => o with { ClientSslCert = NullIfEmpty(v) },
        ["client_ssl_cert_key"] = (o, v) => o with { ClientSslCertKey = NullIfEmpty(v) },
        ["nginx_proxy_proxy_ssl_verify_depth"] = (o, v) => o with { ProxySslVerifyDepth = Count(v, min: 0) },
        // nginx's ssl_verify_client / ssl_client_certificate / ssl_verify_depth for the proxy's ssl listeners (docs/tls.md)
        ["nginx_proxy_ssl_verify_client"] = (o, v) => o with { ClientCertificates = o.ClientCertificates with { Verify = ClientCertificateOptions.ParseVerify(v) } },
        ["nginx_proxy_ssl_client_certificate"] = (o, v) => o with { ClientCertificates = o.ClientCertificates with { CaFile = NullIfEmpty(v) } },
        ["nginx_proxy_ssl_verify_depth"] = (o, v) => o with { ClientCertificates = o.ClientCertificates with { Depth = Count(v, min: 0) } },
        ["mem_cache_size"] = (o, v) => o with { MemCacheSize = NginxSize(v) is > 0 and var size ? size : throw new FormatException($"'{v}' must be a size above 0") },
        // Kong's DNS client settings for upstream target names (DnsOptions)
        ["dns_resolver"] = (o, v) => o with { Dns = o.Dns with { Resolvers = DnsResolvers(v) } },
        ["dns_hostsfile"] = (o, v) => o with { Dns = o.Dns with { HostsFile = File.Exists(v) ? v : throw new FormatException("file does not exist") } },
        ["dns_order"] = (o, v) => o with { Dns = o.Dns with { Order = DnsOrder(v) } },
        ["dns_valid_ttl"] = (o, v) => o with { Dns = o.Dns with { ValidTtl = v.Length == 0 ? null : Seconds(v) } },
        ["dns_stale_ttl"] = (o, v) => o with { Dns = o.Dns with { StaleTtl = Seconds(v) } },
        ["dns_not_found_ttl"] = (o, v) => o with { Dns = o.Dns with { NotFoundTtl = Seconds(v) } },
        ["dns_error_ttl"] = (o, v) => o with { Dns = o.Dns with { ErrorTtl = Seconds(v) } },
        ["dns_no_sync"] = (o, v) => o with { Dns = o.Dns with { NoSync = Bool(v) } },
        // Kong 3.9 knows these; Gatehouse does not implement them, so setting them stops the start
        ["dns_cache_size"] = (_, _) => throw new FormatException(
            "not supported by Gatehouse (the DNS cache holds only upstream target names and is not bounded by size)"),
        ["new_dns_client"] = (o, v) => Bool(v)
            ? throw new FormatException("'on' is not supported by Gatehouse (it resolves as Kong's default client, new_dns_client = off)")
            : o,
    };

    private static FormatException NotImplementedPgKey(string instead) => new($"not supported by Gatehouse ({instead})");

    /// <summary>nginx's size syntax: bytes, or a number with k/K, m/M or g/G (1024-based).</summary>
    internal static long NginxSize(string v)
    {
        var t = v.Trim();
        var unit = t.Length > 0 ? char.ToLowerInvariant(t[^1]) : ' ';
        var shift = unit switch { 'k' => 10, 'm' => 20, 'g' => 30, _ => 0 };
        var digits = shift == 0 ? t : t[..^1];
        if (digits.Length == 0 || !digits.All(char.IsAsciiDigit) || !long.TryParse(digits, out var n) || n > (long.MaxValue >> shift))
            throw new FormatException($"'{v}' is not a size (bytes, or a number with k, m or g)");
        return n << shift;
    }

    /// <summary>An nginx time ("60", "60s", "500ms", "1m", "1h"): a positive duration.</summary>
    internal static TimeSpan NginxTime(string v)
    {
        var text = v.Trim();
        var unitAt = text.Length;
        while (unitAt > 0 && char.IsAsciiLetter(text[unitAt - 1])) unitAt--;
        if (!long.TryParse(text.AsSpan(0, unitAt), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) || n <= 0)
            throw new FormatException($"'{v}' is not a time (e.g. 60s, 500ms, 1m)");
        return text[unitAt..] switch
        {
            "ms" => TimeSpan.FromMilliseconds(n),
            "" or "s" => TimeSpan.FromSeconds(n),
            "m" => TimeSpan.FromMinutes(n),
            "h" => TimeSpan.FromHours(n),
            _ => throw new FormatException($"'{v}' is not a time (units: ms, s, m, h)"),
        };
    }

    /// <summary>Kong's dns_resolver: comma-separated IPv4/IPv6 addresses with optional port (53 by default).</summary>
    private static IReadOnlyList<System.Net.IPEndPoint> DnsResolvers(string v) => List(v).Select(entry =>
        System.Net.IPEndPoint.TryParse(entry, out var e)
            ? (e.Port == 0 ? new System.Net.IPEndPoint(e.Address, 53) : e)
            : throw new FormatException($"must be a comma separated list in the form of IPv4/6 or IPv4/6:port, got '{entry}'")).ToArray();

    private static readonly string[] DnsRecordTypes = ["LAST", "SRV", "A", "AAAA", "CNAME"];

    private static IReadOnlyList<string> DnsOrder(string v)
    {
        var order = List(v).Select(t => t.ToUpperInvariant()).ToArray();
        foreach (var (raw, upper) in List(v).Zip(order))
            if (!DnsRecordTypes.Contains(upper)) throw new FormatException($"invalid entry '{raw}'");
        return order.Length > 0 ? order : throw new FormatException("expected at least one of LAST, SRV, A, AAAA, CNAME");
    }

    /// <summary>Kong's number of seconds (fractions allowed), 0 or more.</summary>
    private static TimeSpan Seconds(string v) =>
        double.TryParse(v, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var n)
        && n >= 0 && double.IsFinite(n) && n < 1e9
            ? TimeSpan.FromSeconds(n)
            : throw new FormatException($"'{v}' is not a number of seconds (0 or more)");

    private static int Port(string v) =>
        int.TryParse(v, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n is > 0 and <= 65535
            ? n : throw new FormatException($"'{v}' is not a port (1-65535)");

    private static int Count(string v, int min) =>
        int.TryParse(v, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n >= min
            ? n : throw new FormatException($"'{v}' is not a whole number of {min} or more");

    /// <summary>Kong's pg_timeout: a number of milliseconds above 0.</summary>
    private static TimeSpan Milliseconds(string v) => TimeSpan.FromMilliseconds(Count(v, min: 1));

    /// <summary>A PEM file of at least one certificate, read now so a bad path stops the start as nginx does.</summary>
    private static string? TrustedCertificateFile(string v)
    {
        if (v.Length == 0) return null;
        if (!File.Exists(v)) throw new FormatException($"file '{v}' does not exist");
        var certificates = new System.Security.Cryptography.X509Certificates.X509Certificate2Collection();
        try { certificates.ImportFromPemFile(v); }
        catch (System.Security.Cryptography.CryptographicException e) { throw new FormatException($"'{v}' is not a PEM certificate file: {e.Message}"); }
        foreach (var c in certificates) c.Dispose();
        return certificates.Count > 0 ? v : throw new FormatException($"'{v}' holds no PEM certificate");
    }

    private static bool Off(string v) => v.Equals("off", StringComparison.OrdinalIgnoreCase);

    private static string NonEmpty(string v) =>
        v.Length == 0 ? throw new FormatException("value must not be empty") : v;

    private static string? NullIfEmpty(string v) => v.Length == 0 ? null : v;

    /// <summary>Kong's <c>vaults</c>: <c>bundled</c> and <c>env</c> load the env vault, <c>off</c> none; Kong's other
    /// vaults are Enterprise ones Gatehouse does not have.</summary>
    private static bool Vaults(string v)
    {
        var names = List(v);
        if (names.Count == 0 || names[0] == "off") return false;
        foreach (var name in names)
            if (name is not ("bundled" or VaultResolver.EnvStrategy or "off"))
                throw new FormatException($"vault '{name}' is not installed (Gatehouse bundles the env vault only)");
        return true;
    }

    /// <summary>Validated now so that a wrong value stops the start naming the key.</summary>
    private static IReadOnlyList<string> Instrumentations(string v)
    {
        var steps = List(v);
        Config.TracingInstrumentations.Parse(steps);
        return steps;
    }

    private static IReadOnlyList<string> List(string v) =>
        v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    internal static bool Bool(string v) => v.ToLowerInvariant() switch
    {
        "on" or "true" or "yes" or "1" => true,
        "off" or "false" or "no" or "0" => false,
        _ => throw new FormatException($"'{v}' is not a boolean (use on or off)"),
    };

    private static IReadOnlyList<ListenAddress> Listen(string v, bool allowOff)
    {
        if (allowOff && Off(v)) return [];
        var list = List(v).Select(ListenAddress.Parse).ToArray();
        return list.Length == 0 ? throw new FormatException("expected at least one host:port, or off") : list;
    }

    private static DatabaseKind Database(string v) => v.ToLowerInvariant() switch
    {
        "sqlite" => DatabaseKind.Sqlite,
        "off" => DatabaseKind.Off,
        "postgres" => DatabaseKind.Postgres,
        _ => throw new FormatException($"'{v}' is not a database (sqlite, postgres or off)"),
    };

    private static string LogLevel(string v)
    {
        var l = v.ToLowerInvariant();
        return GatehouseLogLevels.IsValid(l) ? l
            : throw new FormatException($"'{v}' is not a log level ({string.Join(", ", GatehouseLogLevels.Names)})");
    }

    /// <summary>Kong's <c>ssl_protocols</c>: space-separated nginx names. TLS 1.0 and 1.1 are refused: the platform's
    /// OpenSSL policy disables them, so a listener could not honour them.</summary>
    private static System.Security.Authentication.SslProtocols TlsProtocols(string v)
    {
        var result = System.Security.Authentication.SslProtocols.None;
        foreach (var name in v.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            result |= name switch
            {
                "TLSv1.2" => System.Security.Authentication.SslProtocols.Tls12,
                "TLSv1.3" => System.Security.Authentication.SslProtocols.Tls13,
                "TLSv1" or "TLSv1.1" or "SSLv2" or "SSLv3" => throw new FormatException(
                    $"'{name}' is not supported by Gatehouse (.NET on this platform's OpenSSL offers TLSv1.2 and TLSv1.3 only)"),
                _ => throw new FormatException($"'{name}' is not a TLS protocol (TLSv1.2, TLSv1.3)"),
            };
        return result != System.Security.Authentication.SslProtocols.None ? result : throw new FormatException("expected TLSv1.2 and/or TLSv1.3");
    }

    private static IReadOnlySet<string> HeaderTokens(string v)
    {
        var set = new HashSet<string>(StringComparer.Ordinal);
        foreach (var token in List(v))
        {
            if (!ProxyHeaderTokens.TryParse(token, out _))
                throw new FormatException($"invalid header token '{token}'");
            if (token.Equals("off", StringComparison.OrdinalIgnoreCase)) continue;
            set.Add(token.ToLowerInvariant());
        }
        return set;
    }

    // Kong refuses a node_id that is not a UUID
    private static Guid? NodeId(string v) =>
        v.Length == 0 ? null : Guid.TryParse(v, out var id) ? id : throw new FormatException($"'{v}' is not a valid UUID");

    // Kong: a first "off" disables every plugin; "bundled" stands for the bundled set; other entries are names.
    private static IReadOnlyList<string> PluginList(string v)
    {
        var items = List(v);
        if (items.Count > 0 && Off(items[0])) return [];
        return [.. items.Where(i => !Off(i))];
    }

    private static IReadOnlyList<string> WasmFilterList(string v)
    {
        var items = List(v);
        if (items.Count > 1 && items.Any(Off))
            throw new FormatException("'off' cannot be combined with other values");
        foreach (var item in items)
            if (!System.Text.RegularExpressions.Regex.IsMatch(item, "^[A-Za-z0-9_.-]+$"))
                throw new FormatException($"invalid filter name '{item}'");
        return items.Any(Off) ? [] : items;
    }
}
