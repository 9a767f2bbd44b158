namespace Gatehouse.Config;

/// <summary>
/// The parsed, validated gatehouse.conf (kong.conf syntax) after environment overrides.
/// Immutable; produced by the conf loader, consumed everywhere else through DI.
/// Defaults follow kong.conf.default unless a comment says otherwise.
/// </summary>
public sealed record GatehouseOptions
{
    /// <summary>Working directory: the SQLite file, the pid file (<c>pids/gatehouse.pid</c>), the node id file
    /// (<c>gatehouse.id</c>) and logs live here.</summary>
    public string Prefix { get; init; } = "/usr/local/gatehouse";
    public IReadOnlyList<ListenAddress> ProxyListen { get; init; } = [ListenAddress.Parse("0.0.0.0:8000")];
    public IReadOnlyList<ListenAddress> AdminListen { get; init; } = [ListenAddress.Parse("127.0.0.1:8001")];
    /// <summary>Empty when off (the default).</summary>
    public IReadOnlyList<ListenAddress> StatusListen { get; init; } = [];
    /// <summary>Kong's admin_gui_listen: where the Gatehouse Manager (the web UI) is served. Empty (off) in this record;
    /// the conf loader applies Kong's default, <c>127.0.0.1:8002</c> when the Admin API listens.</summary>
    public IReadOnlyList<ListenAddress> AdminGuiListen { get; init; } = [];
    /// <summary>Kong's admin_gui_api_url: the Admin API the Manager's pages call, when it is not this node's admin_listen
    /// on the host the browser used. Null: <c>&lt;page scheme&gt;://&lt;page host&gt;:&lt;admin_listen port&gt;</c>.</summary>
    public Uri? AdminGuiApiUrl { get; init; }
    /// <summary>Kong's admin_gui_url (Kong Manager's addresses): their origins may call the Admin API cross-site (CORS),
    /// their hosts are accepted in Host. Empty by default.</summary>
    public IReadOnlyList<Uri> AdminGuiUrl { get; init; } = [];
    /// <summary>Origins (<c>scheme://host[:port]</c>, normalised) allowed to call the Admin API cross-site, besides
    /// those of <see cref="AdminGuiUrl"/> (Kong derives its internal admin_gui_origin from admin_gui_url). Empty by
    /// default: no CORS.</summary>
    public IReadOnlyList<string> AdminGuiOrigin { get; init; } = [];
    /// <summary>Ours: host names accepted in the Host header of the Admin API and status listeners besides localhost,
    /// the listen addresses and admin_gui_url's hosts (DNS-rebinding defence); <c>*</c> accepts any.</summary>
    public IReadOnlyList<string> AdminAllowedHosts { get; init; } = [];
    /// <summary>Ours (beyond Kong OSS): when set, every Admin API request must carry it (<c>Kong-Admin-Token</c> or
    /// <c>Authorization: Bearer</c>).</summary>
    public string? AdminToken { get; init; }
    public string? SslCert { get; init; }
    public string? SslCertKey { get; init; }
    /// <summary>Kong's <c>admin_ssl_cert</c>/<c>_key</c> and <c>status_ssl_cert</c>/<c>_key</c>: what the Admin API and status
    /// listeners with <c>ssl</c> present; unset, the self-signed default (not ssl_cert, as Kong).</summary>
    public string? AdminSslCert { get; init; }
    public string? AdminSslCertKey { get; init; }
    public string? StatusSslCert { get; init; }
    public string? StatusSslCertKey { get; init; }
    /// <summary>Kong's <c>admin_gui_ssl_cert</c>/<c>_key</c>: what the Manager's admin_gui_listen entries with <c>ssl</c>
    /// present; unset, the self-signed default (as Kong).</summary>
    public string? AdminGuiSslCert { get; init; }
    public string? AdminGuiSslCertKey { get; init; }
    /// <summary>Kong's <c>ssl_protocols</c> (default <c>TLSv1.2 TLSv1.3</c>): what every <c>ssl</c> listener negotiates.</summary>
    public System.Security.Authentication.SslProtocols SslProtocols { get; init; } =
        System.Security.Authentication.SslProtocols.Tls12 | System.Security.Authentication.SslProtocols.Tls13;
    /// <summary>Kong's <c>ssl_cipher_suite</c> and <c>ssl_ciphers</c> as given; <see cref="CipherSuites"/> is what they mean.</summary>
    public string SslCipherSuiteName { get; init; } = "intermediate";
    public string? SslCiphers { get; init; }
    /// <summary>The cipher suites every <c>ssl</c> listener accepts (resolved by the conf loader).</summary>
    public TlsCipherSuites CipherSuites { get; init; } = TlsCipherSuites.Default;
    /// <summary>Client certificates on proxy <c>ssl</c> listeners (<c>nginx_proxy_ssl_verify_client</c> and its siblings).</summary>
    public ClientCertificateOptions ClientCertificates { get; init; } = new();
    public DatabaseKind Database { get; init; } = DatabaseKind.Sqlite;
    /// <summary>Path of the SQLite file; defaults to &lt;prefix&gt;/gatehouse.db.</summary>
    public string? SqlitePath { get; init; }
    /// <summary>Kong's <c>pg_*</c> and <c>pg_ro_*</c> keys, used when <see cref="Database"/> is postgres.</summary>
    public PostgresOptions Postgres { get; init; } = new();
    /// <summary>Kong's <c>db_update_frequency</c> (default 5 s): how often a node sharing a PostgreSQL database polls
    /// <c>cluster_events</c> for changes other nodes made (the fallback behind LISTEN/NOTIFY).</summary>
    public TimeSpan DbUpdateFrequency { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>Kong's <c>db_update_propagation</c> (default 0): how long a node waits after hearing of another node's
    /// change before it reads the database (replication delay of a <c>pg_ro_*</c> replica elsewhere).</summary>
    public TimeSpan DbUpdatePropagation { get; init; } = TimeSpan.Zero;
    public string? DeclarativeConfig { get; init; }
    public string LogLevel { get; init; } = "notice";
    /// <summary>Null when off; "stdout"/"stderr" or a file path otherwise.</summary>
    public string? ProxyAccessLog { get; init; } = "stdout";
    /// <summary>Which informational headers the proxy adds (Kong's <c>headers</c>); lower case tokens.</summary>
    public IReadOnlySet<string> Headers { get; init; } = new HashSet<string> { "server_tokens", "latency_tokens" };
    public bool Wasm { get; init; }
    public string? WasmFiltersPath { get; init; }
    /// <summary>Kong's wasm_filters: "bundled", "user", filter names, or "off".</summary>
    public IReadOnlyList<string> WasmFilters { get; init; } = ["bundled", "user"];
    /// <summary>Gatehouse's <c>wasm_contexts_per_vm</c>: requests in flight per VM of a filter entry above which the
    /// entry starts another VM, up to <see cref="WasmMaxVmsPerFilter"/> (0: no bound, as Envoy). 256: an AssemblyScript
    /// SDK filter then scales with connections as the gateway does, for +26 MB with a three-filter chain at 4,000
    /// connections (bench/NOTES.md, session 20).</summary>
    public int WasmContextsPerVm { get; init; } = 256;
    /// <summary>Gatehouse's <c>wasm_max_vms_per_filter</c>: the most VMs one filter entry grows to under
    /// <see cref="WasmContextsPerVm"/>.</summary>
    public int WasmMaxVmsPerFilter { get; init; } = 16;
    /// <summary>Kong's allow_debug_header: when on, a request with <c>Gatehouse-Debug: 1</c> (or <c>Kong-Debug: 1</c>)
    /// gets Gatehouse-Route-Id/-Name and Gatehouse-Service-Id/-Name response headers.</summary>
    public bool AllowDebugHeader { get; init; }
    /// <summary>Kong's request_debug (on by default): X-Kong-Request-Debug timings (Proxy/RequestDebug).</summary>
    public bool RequestDebug { get; init; } = true;
    /// <summary>Kong's request_debug_token; null: a random UUID per start.</summary>
    public string? RequestDebugToken { get; init; }
    /// <summary>Kong's <c>tracing_instrumentations</c> (default off: the opentelemetry plugin only propagates).</summary>
    public IReadOnlyList<string> TracingInstrumentations { get; init; } = ["off"];
    /// <summary>Kong's <c>tracing_sampling_rate</c> (default 0.01): the opentelemetry plugin's rate when its
    /// <c>sampling_rate</c> is unset.</summary>
    public double TracingSamplingRate { get; init; } = 0.01;
    /// <summary>Upstream TLS defaults, as Kong's injected nginx directives <c>nginx_proxy_proxy_ssl_verify</c> (services
    /// whose tls_verify is null), <c>nginx_proxy_proxy_ssl_trusted_certificate</c> (the trust store of services without
    /// ca_certificates; none: nothing is trusted) and <c>nginx_proxy_proxy_ssl_verify_depth</c> (nginx's default 1).</summary>
    public bool ProxySslVerify { get; init; }
    public string? ProxySslTrustedCertificate { get; init; }
    public int ProxySslVerifyDepth { get; init; } = 1;
    /// <summary>Kong's <c>client_ssl</c>: present a client certificate to https upstreams whose service (and upstream)
    /// names none — <c>client_ssl_cert</c>/<c>client_ssl_cert_key</c> (PEM files), else the self-signed default.</summary>
    public bool ClientSsl { get; init; }
    public string? ClientSslCert { get; init; }
    public string? ClientSslCertKey { get; init; }
    /// <summary>Ours (no Kong equivalent): run request handling on the socket I/O threads, one event loop per core
    /// like nginx's workers, instead of handing every read and upstream completion to the .NET thread pool. On by
    /// default: it removes one or two thread switches per request (see bench/NOTES.md); a handler that blocks holds
    /// up the other connections of its I/O thread, so <c>off</c> is there for filters that burn long CPU slices.</summary>
    public bool InlineIo { get; init; } = true;
    /// <summary>Kong's <c>nginx_admin_client_max_body_size</c>: the largest Admin API request body, in bytes (0 =
    /// unlimited, as nginx). Larger bodies answer 413 before they are buffered.</summary>
    public long AdminClientMaxBodySize { get; init; } = 10L * 1024 * 1024;
    /// <summary>Kong's <c>mem_cache_size</c> (default 128m), the size of the <c>kong_db_cache</c> dictionary: in
    /// Gatehouse it bounds only proxy-cache's memory store (bytes; least recently used entries are evicted).</summary>
    public long MemCacheSize { get; init; } = 128L * 1024 * 1024;
    /// <summary>nginx's <c>client_header_timeout</c> (<c>nginx_http_client_header_timeout</c>, default 60 s): a client
    /// that has not sent a whole request header by then is disconnected (Kestrel's RequestHeadersTimeout, for every
    /// listener; slowloris).</summary>
    public TimeSpan ClientHeaderTimeout { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>nginx's <c>keepalive_timeout</c> (<c>nginx_http_keepalive_timeout</c>, default 75 s): an idle
    /// keep-alive connection is closed after this long (Kestrel's KeepAliveTimeout, every listener).</summary>
    public TimeSpan KeepaliveTimeout { get; init; } = TimeSpan.FromSeconds(75);
    /// <summary>Kong's <c>node_id</c> (deprecated in Kong 3.9): this node's id; when null, <c>start</c> keeps one in
    /// <c>&lt;prefix&gt;/gatehouse.id</c> across restarts.</summary>
    public Guid? NodeId { get; init; }
    /// <summary>Kong's <c>plugins</c>: the plugin names available on this node; <c>bundled</c> stands for every bundled
    /// plugin, an empty list is <c>off</c>.</summary>
    public IReadOnlyList<string> Plugins { get; init; } = ["bundled"];
    /// <summary>Kong's <c>dns_*</c> keys: how upstream target names are resolved (Proxy/Balancing/Dns/DnsCache).</summary>
    public DnsOptions Dns { get; init; } = new();
    /// <summary>Kong's <c>vaults</c>: false when <c>off</c> (Gatehouse bundles the <c>env</c> vault only).</summary>
    public bool EnvVaultLoaded { get; init; } = true;
    /// <summary>Kong's <c>vault_env_prefix</c>: prepended to the variable name of <c>{vault://env/…}</c> references.</summary>
    public string? VaultEnvPrefix { get; init; }
    /// <summary>Every key/value after overrides, for the sanitized dump in GET /.</summary>
    public IReadOnlyDictionary<string, string> Raw { get; init; } = new Dictionary<string, string>();

    public string EffectiveSqlitePath => SqlitePath ?? System.IO.Path.Combine(Prefix, "gatehouse.db");
}

public enum DatabaseKind { Sqlite, Off, Postgres }

/// <summary>Kong's <c>dns_*</c> keys as gatehouse.conf gives them, with Kong 3.9's defaults (kong_defaults.lua). The
/// proxy turns them into its DNS cache's settings.</summary>
public sealed record DnsOptions
{
    /// <summary><c>dns_resolver</c>: the name servers; empty: those of /etc/resolv.conf.</summary>
    public IReadOnlyList<System.Net.IPEndPoint> Resolvers { get; init; } = [];
    /// <summary><c>dns_hostsfile</c>: read once at start, consulted before any query.</summary>
    public string HostsFile { get; init; } = "/etc/hosts";
    /// <summary><c>dns_order</c>: record types tried in turn (upper case: LAST, SRV, A, AAAA, CNAME).</summary>
    public IReadOnlyList<string> Order { get; init; } = ["LAST", "SRV", "A", "CNAME"];
    /// <summary><c>dns_valid_ttl</c>: replaces every answer's TTL; null: the records' own.</summary>
    public TimeSpan? ValidTtl { get; init; }
    /// <summary><c>dns_stale_ttl</c>: how long an expired answer is still served while it is refreshed.</summary>
    public TimeSpan StaleTtl { get; init; } = TimeSpan.FromSeconds(3600);
    /// <summary><c>dns_not_found_ttl</c>: how long a name error or empty answer is cached.</summary>
    public TimeSpan NotFoundTtl { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary><c>dns_error_ttl</c>: how long a failed lookup is cached.</summary>
    public TimeSpan ErrorTtl { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary><c>dns_no_sync</c>: on, concurrent lookups of one name each query the server.</summary>
    public bool NoSync { get; init; }
}

/// <summary>One entry of a *_listen list: address, port and Kong's listen flags. Every flag Gatehouse accepts has
/// an effect (see Hosting/KestrelListeners and docs/gateway-core.md); any other flag, typos included, is refused.</summary>
public sealed record ListenAddress(string Host, int Port, bool Ssl, bool Http2, IReadOnlySet<string> Flags)
{
    /// <summary><c>backlog=N</c>: the listen queue length (Kestrel's default, 512, when absent).</summary>
    public int? Backlog { get; init; }
    /// <summary><c>reuseport</c>: SO_REUSEPORT on the listening socket.</summary>
    public bool ReusePort { get; init; }
    /// <summary><c>ipv6only=on|off</c>; null = nginx's default (on) for a wildcard IPv6 address.</summary>
    public bool? Ipv6Only { get; init; }
    /// <summary><c>proxy_protocol</c>: connections start with a PROXY protocol header naming the client.</summary>
    public bool ProxyProtocol { get; init; }

    /// <summary>The flags nginx/Kong know that Gatehouse cannot honour, with the reason the start error gives.</summary>
    private static readonly Dictionary<string, string> Unsupported = new(StringComparer.Ordinal)
    {
        ["deferred"] = "TCP_DEFER_ACCEPT is not set",
        ["so_keepalive"] = "TCP keepalive is not set on accepted connections",
        ["udp"] = "Gatehouse has no stream proxy",
    };

    private const string Known = "ssl, http2, proxy_protocol, backlog=N, reuseport, ipv6only=on|off, bind";

    /// <summary>Parses "host:port [flag ...]"; throws <see cref="FormatException"/> with a readable message.</summary>
    public static ListenAddress Parse(string text)
    {
        var parts = text.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0) throw new FormatException("empty listen address");
        var hostPort = parts[0];
        var colon = hostPort.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(hostPort.AsSpan(colon + 1), out var port) || port < 0 || port > 65535)
            throw new FormatException($"invalid listen address '{text}': expected host:port");
        var host = hostPort[..colon].Trim('[', ']');
        var flags = new HashSet<string>(parts.Skip(1), StringComparer.Ordinal);
        int? backlog = null;
        bool? ipv6Only = null;
        foreach (var flag in flags)
        {
            var eq = flag.IndexOf('=');
            var name = eq < 0 ? flag : flag[..eq];
            var value = eq < 0 ? null : flag[(eq + 1)..];
            switch (name)
            {
                case "ssl" or "http2" or "reuseport" or "bind" or "proxy_protocol" when value is null:
                    break;
                case "backlog" when int.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n > 0:
                    backlog = n;
                    break;
                case "ipv6only" when value is "on" or "off":
                    ipv6Only = value == "on";
                    break;
                case "backlog" or "ipv6only":
                    throw new FormatException($"invalid flag '{flag}' in '{text}' (backlog=N with N > 0, ipv6only=on or off)");
                default:
                    throw Unsupported.TryGetValue(name, out var why)
                        ? new FormatException($"flag '{flag}' in '{text}' is not supported by Gatehouse ({why})")
                        : new FormatException($"unknown flag '{flag}' in '{text}' (Gatehouse knows {Known})");
            }
        }
        if (ipv6Only is not null && !(System.Net.IPAddress.TryParse(host, out var ip) && ip.Equals(System.Net.IPAddress.IPv6Any)))
            throw new FormatException($"flag 'ipv6only' in '{text}' needs the IPv6 wildcard address [::]");
        return new ListenAddress(host, port, flags.Contains("ssl"), flags.Contains("http2"), flags)
        {
            Backlog = backlog, ReusePort = flags.Contains("reuseport"), Ipv6Only = ipv6Only,
            ProxyProtocol = flags.Contains("proxy_protocol"),
        };
    }

    public override string ToString() =>
        (Host.Contains(':') ? $"[{Host}]" : Host) + ":" + Port + (Flags.Count > 0 ? " " + string.Join(' ', Flags) : "");
}
