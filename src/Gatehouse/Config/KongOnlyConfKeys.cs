namespace Gatehouse.Config;

/// <summary>How Gatehouse treats a Kong 3.9 conf key it does not implement (<see cref="KongOnlyConfKeys"/>).</summary>
internal enum KongOnlyKind
{
    /// <summary>Meaningful only inside OpenResty/nginx or for a feature that is off: no value changes what an operator
    /// of Gatehouse observes, so any value is accepted.</summary>
    NoEffect,
    /// <summary>Accepted only with the value Gatehouse behaves as (usually Kong's default); any other value stops the start.</summary>
    OnlyValue,
    /// <summary>Gatehouse does not behave as any value of the key (not even Kong's default): setting it stops the start.</summary>
    Refused,
}

/// <summary>One Kong 3.9 key from kong_defaults.lua that Gatehouse does not implement.</summary>
/// <param name="Values">For <see cref="KongOnlyKind.OnlyValue"/>: the values accepted ("" is Kong's NONE).</param>
/// <param name="Reason">Why, as the error shows it after "not supported by Gatehouse".</param>
internal sealed record KongOnlyKey(string Name, KongOnlyKind Kind, string[] Values, string Reason);

/// <summary>
/// The one table of Kong 3.9 conf keys (kong/templates/kong_defaults.lua) that Gatehouse does not implement, each with
/// its class and reason, and the policy for them and for Kong's injected-directive namespaces (nginx_http_*, …).
/// Keys Gatehouse implements are in <see cref="ConfKeys"/>, which wins when a key is in both.
/// </summary>
internal static class KongOnlyConfKeys
{
    private static KongOnlyKey Any(string name, string reason) => new(name, KongOnlyKind.NoEffect, [], reason);
    private static KongOnlyKey Only(string name, string value, string reason) => new(name, KongOnlyKind.OnlyValue, [value], reason);
    private static KongOnlyKey Only(string name, string[] values, string reason) => new(name, KongOnlyKind.OnlyValue, values, reason);
    private static KongOnlyKey No(string name, string reason) => new(name, KongOnlyKind.Refused, [], reason);

    private const string NoStream = "Gatehouse has no stream (TCP/TLS) proxy; stream_listen must be off";
    private const string GuiLog = "the Gatehouse Manager (admin_gui_listen) writes no log of its own";
    private const string NoHybrid = "used only in hybrid mode; Gatehouse nodes are traditional (role = traditional)";
    private const string ErrorLog = "Gatehouse writes its error log to standard output";
    private const string NoTrustedIps = "no client is trusted (trusted_ips = NONE), so the client address is never read from a header";
    private const string NoNewDns = "read only by Kong's new DNS client (new_dns_client = on), which Gatehouse does not offer; see the dns_* keys";
    private const string LuaOnly = "a setting of OpenResty's Lua runtime, which Gatehouse does not have";
    private const string NoResumption = "the TLS listeners do not resume sessions: .NET's OpenSSL server keeps no session " +
        "cache and issues no tickets once a cipher suite policy (ssl_cipher_suite) is applied";
    private const string NoNginxTls = "Gatehouse's TLS listeners are configured by the ssl_* keys, not nginx directives";

    public static readonly IReadOnlyDictionary<string, KongOnlyKey> All = new KongOnlyKey[]
    {
        // :: logs
        Only("proxy_error_log", "/dev/stdout", ErrorLog),
        Only("admin_error_log", "/dev/stdout", ErrorLog),
        Only("status_error_log", "/dev/stdout", ErrorLog),
        Only("admin_access_log", "off", "the Admin API writes no access log"),
        Only("status_access_log", "off", "the status API writes no access log"),
        Any("proxy_stream_access_log", NoStream),
        Any("proxy_stream_error_log", NoStream),
        Any("admin_gui_access_log", GuiLog),
        Any("admin_gui_error_log", GuiLog),
        // :: features Gatehouse does not have
        Only("port_maps", "", "X-Forwarded-Port is the port the client connected to"),
        Only("host_ports", "", "X-Forwarded-Port is the port the client connected to"),
        Only("anonymous_reports", "off", "Gatehouse sends no usage reports"),
        Only("proxy_server", "", "Gatehouse connects to upstreams directly, never through a forward proxy"),
        Any("proxy_server_ssl_verify", "used only with proxy_server, which must be NONE"),
        Only("error_template_html", "", "Gatehouse answers its own errors with Kong's JSON body"),
        Only("error_template_json", "", "Gatehouse answers its own errors with Kong's JSON body"),
        Only("error_template_xml", "", "Gatehouse answers its own errors with Kong's JSON body"),
        Only("error_template_plain", "", "Gatehouse answers its own errors with Kong's JSON body"),
        No("error_default_type", "Gatehouse answers its own errors with Kong's JSON body whatever the Accept header"),
        Only("stream_listen", "off", NoStream),
        Only("admin_gui_path", "/", "the Gatehouse Manager is served at the root of admin_gui_listen"),
        Only("admin_gui_csp_header", "off", "the Gatehouse Manager always sends its own fixed Content-Security-Policy"),
        Only("role", "traditional", "Gatehouse has no hybrid mode (control plane / data plane)"),
        Any("cluster_listen", NoHybrid), Any("cluster_control_plane", NoHybrid), Any("cluster_cert", NoHybrid),
        Any("cluster_cert_key", NoHybrid), Any("cluster_mtls", NoHybrid), Any("cluster_ca_cert", NoHybrid),
        Any("cluster_server_name", NoHybrid), Any("cluster_data_plane_purge_delay", NoHybrid), Any("cluster_ocsp", NoHybrid),
        Any("cluster_max_payload", NoHybrid), Any("cluster_use_proxy", NoHybrid), Any("cluster_dp_labels", NoHybrid),
        Any("cluster_rpc", NoHybrid), Any("cluster_rpc_sync", NoHybrid), Any("cluster_cjson", NoHybrid),
        Only("kic", "off", "Gatehouse is not driven by the Kong Ingress Controller"),
        Only("pluginserver_names", "", "Gatehouse runs no external plugin servers (Go, Python, JavaScript plugins)"),
        Any("untrusted_lua", "Gatehouse runs no Lua code (no serverless functions)"),
        Any("untrusted_lua_sandbox_requires", "Gatehouse runs no Lua code (no serverless functions)"),
        Any("untrusted_lua_sandbox_environment", "Gatehouse runs no Lua code (no serverless functions)"),
        Only("opentelemetry_tracing", "off", "Kong's deprecated name: set tracing_instrumentations"),
        Any("opentelemetry_tracing_sampling_rate", "Kong's deprecated name: set tracing_sampling_rate"),
        Only("wasm_dynamic_module", "", "the Wasm engine is part of Gatehouse, not an nginx module"),
        Only("declarative_config_string", "", "give the declarative configuration as a file (declarative_config)"),
        // :: upstream connections and TLS as a client
        No("upstream_keepalive_pool_size", "idle upstream connections are not bounded by count"),
        No("upstream_keepalive_max_requests", "an upstream connection is not closed after a number of requests"),
        Only("upstream_keepalive_idle_timeout", "60", "idle upstream connections are closed after 60 s, Kong's default"),
        Only("lua_ssl_trusted_certificate", "system", "Gatehouse verifies certificates (pg_ssl_verify) against the system's trust store"),
        No("lua_ssl_verify_depth", "certificate chains are not limited in depth"),
        Only("lua_ssl_protocols", "TLSv1.2 TLSv1.3", "Gatehouse offers TLSv1.2 and TLSv1.3 to upstreams and databases"),
        // :: TLS listeners: what .NET's SslStream cannot set (docs/tls.md)
        Only("ssl_dhparam", "", "the listeners offer no finite-field DHE key exchange to configure; ECDHE is used"),
        Only("ssl_prefer_server_ciphers", "on", "the listeners always choose the TLS 1.2 suite in their own order, as Kong's default"),
        No("ssl_session_tickets", NoResumption), No("ssl_session_timeout", NoResumption), No("ssl_session_cache_size", NoResumption),
        // :: proxying
        Only("headers_upstream", "x-kong-request-id", "the request id goes upstream when the headers key includes it"),
        Only("trusted_ips", "", "Gatehouse trusts no client's forwarding headers (X-Forwarded-*, X-Real-IP)"),
        Any("real_ip_header", NoTrustedIps), Any("real_ip_recursive", NoTrustedIps),
        Any("nginx_proxy_real_ip_header", NoTrustedIps), Any("nginx_proxy_real_ip_recursive", NoTrustedIps),
        Only("router_flavor", "traditional_compatible", "Gatehouse's router is traditional_compatible"),
        Only("client_body_buffer_size", "8k", "request bodies are read into memory by the plugins that need them"),
        Only("nginx_http_client_body_buffer_size", "8k", "request bodies are read into memory by the plugins that need them"),
        Only("nginx_admin_client_body_buffer_size", "10m", "Admin API bodies are read into memory up to admin_client_max_body_size"),
        Only("nginx_http_client_max_body_size", "0", "proxied request bodies are not limited in size"),
        Only("nginx_http_charset", "UTF-8", "Gatehouse's own responses are UTF-8"),
        No("nginx_http_keepalive_requests", "a client connection is not closed after a number of requests"),
        // :: database and cache
        Only("db_cache_ttl", "0", "the whole configuration is held in memory and never expires"),
        Only("db_cache_neg_ttl", "", "the whole configuration is held in memory and never expires"),
        No("db_resurrect_ttl", "while the database is unreachable the last configuration is served for as long as it lasts"),
        Only("db_cache_warmup_entities", "services", "the whole configuration is loaded at start"),
        Only("lmdb_map_size", "2048m", "DB-less configuration is held in memory, not in an lmdb file"),
        Any("lmdb_environment_path", "DB-less configuration is held in memory, not in an lmdb file"),
        Only("_debug_pg_ttl_cleanup_interval", "300", "a Kong debugging key"),
        // :: the new DNS client (dns_* is the one Gatehouse implements)
        Any("resolver_address", NoNewDns), Any("resolver_hosts_file", NoNewDns), Any("resolver_family", NoNewDns),
        Any("resolver_valid_ttl", NoNewDns), Any("resolver_stale_ttl", NoNewDns), Any("resolver_lru_cache_size", NoNewDns),
        Any("resolver_mem_cache_size", NoNewDns), Any("resolver_error_ttl", NoNewDns),
        // :: nginx processes and OpenResty internals
        Only("nginx_user", "kong kong", "Gatehouse does not switch user; run it as the user it should run as"),
        Only("nginx_main_user", "kong kong", "Gatehouse does not switch user; run it as the user it should run as"),
        Any("nginx_worker_processes", "one Gatehouse process uses every core, as nginx's auto"),
        Any("nginx_main_worker_processes", "one Gatehouse process uses every core, as nginx's auto"),
        Only("nginx_daemon", "off", "gatehouse start runs in the foreground"),
        Only("nginx_main_daemon", "off", "gatehouse start runs in the foreground"),
        Only("nginx_main_worker_rlimit_nofile", "auto", "Gatehouse does not change its open-file limit"),
        Only("nginx_events_worker_connections", "auto", "client connections are not limited in number"),
        Any("nginx_events_multi_accept", "how nginx workers accept connections; Kestrel has no such setting"),
        Any("dedicated_config_processing", "a Kong worker layout; Gatehouse is one process"),
        Any("worker_consistency", "one Gatehouse process has no workers to keep consistent; configuration changes apply as docs/cluster.md says"),
        Any("worker_state_update_frequency", "one Gatehouse process has no workers to keep consistent; configuration changes apply as docs/cluster.md says"),
        Any("worker_events_max_payload", "one Gatehouse process has no worker events"),
        Any("lua_socket_pool_size", LuaOnly), Any("lua_package_path", LuaOnly), Any("lua_package_cpath", LuaOnly),
        Any("openresty_path", LuaOnly),
        Any("nginx_http_lua_regex_match_limit", LuaOnly), Any("nginx_http_lua_regex_cache_max_entries", LuaOnly),
        Any("lua_max_req_headers", LuaOnly + "; its plugins see every header"),
        Any("lua_max_resp_headers", LuaOnly + "; its plugins see every header"),
        Any("lua_max_uri_args", LuaOnly + "; its plugins see every argument"),
        Any("lua_max_post_args", LuaOnly + "; its plugins see every argument"),
        // Kong injects these nginx directives only when set (default NONE)
        Only("nginx_http_ssl_protocols", "", NoNginxTls), Only("nginx_http_ssl_prefer_server_ciphers", "", NoNginxTls),
        Only("nginx_http_ssl_dhparam", "", NoNginxTls), Only("nginx_http_ssl_session_tickets", "", NoNginxTls),
        Only("nginx_http_ssl_session_timeout", "", NoNginxTls), Only("nginx_http_ssl_conf_command", "", NoNginxTls),
        Only("nginx_http_proxy_ssl_conf_command", "", NoNginxTls), Only("nginx_http_lua_ssl_conf_command", "", NoNginxTls),
        Only("nginx_http_grpc_ssl_conf_command", "", NoNginxTls),
        Any("nginx_stream_ssl_conf_command", NoStream), Any("nginx_stream_proxy_ssl_conf_command", NoStream),
        Any("nginx_stream_lua_ssl_conf_command", NoStream), Any("nginx_stream_ssl_protocols", NoStream),
        Any("nginx_stream_ssl_prefer_server_ciphers", NoStream), Any("nginx_stream_ssl_dhparam", NoStream),
        Any("nginx_stream_ssl_session_tickets", NoStream), Any("nginx_stream_ssl_session_timeout", NoStream),
    }.ToDictionary(k => k.Name, StringComparer.Ordinal);

    /// <summary>Kong's injected-directive namespaces (conf_loader/constants.lua DYNAMIC_KEY_NAMESPACES): any key under
    /// them is a Kong setting, read from the file and from KONG_* variables alike.</summary>
    public static readonly string[] DynamicPrefixes = ["nginx_", "pluginserver_", "vault_"];

    public static bool IsDynamic(string key) => DynamicPrefixes.Any(p => key.StartsWith(p, StringComparison.Ordinal));

    /// <summary>The error for a key Gatehouse does not implement with this value, or null when it is accepted.
    /// Only for keys in <see cref="All"/> or under <see cref="DynamicPrefixes"/>.</summary>
    public static string? Check(string key, string value)
    {
        if (!All.TryGetValue(key, out var k))
        {
            // Kong injects no directive whose value is NONE (parse_nginx_directives): that is not setting it
            if (value.Length == 0 || value.Equals("NONE", StringComparison.OrdinalIgnoreCase)) return null;
            // a misspelt known key under these prefixes would land here too
            var hint = ClosestConfKey.Find(key, ConfKeys.All.Keys.Concat(All.Keys)) is { } near ? $" (did you mean {near}?)" : "";
            return key.StartsWith("nginx_", StringComparison.Ordinal)
                ? $"{key}: not supported by Gatehouse (an nginx directive Kong injects; Gatehouse runs on Kestrel, not nginx, and implements only the nginx_* keys listed in docs/gateway-core.md); remove it{hint}"
                : $"{key}: not supported by Gatehouse ({(key.StartsWith("vault_", StringComparison.Ordinal) ? "Gatehouse has the env vault only, whose one key is vault_env_prefix" : "Gatehouse runs no external plugin servers")}); remove it{hint}";
        }
        return k.Kind switch
        {
            KongOnlyKind.NoEffect => null,
            KongOnlyKind.OnlyValue when k.Values.Any(v => SameValue(v, value)) => null,
            KongOnlyKind.OnlyValue => $"{key}: '{value}' is not supported by Gatehouse ({k.Reason}); remove it or set it to {Describe(k.Values[0])}",
            _ => $"{key}: not supported by Gatehouse ({k.Reason}); remove it",
        };
    }

    private static string Describe(string v) => v.Length == 0 ? "NONE" : $"'{v}'";

    /// <summary>Values compared as Kong reads them: case and surrounding/duplicate spaces aside, NONE is empty, and
    /// on/off are booleans.</summary>
    private static bool SameValue(string expected, string actual)
    {
        static string Normal(string s)
        {
            var t = string.Join(' ', s.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            return t.Equals("NONE", StringComparison.OrdinalIgnoreCase) ? "" : t.ToLowerInvariant();
        }
        var (e, a) = (Normal(expected), Normal(actual));
        if (e == a) return true;
        if (e is not ("on" or "off")) return false;
        try { return ConfKeys.Bool(e) == ConfKeys.Bool(a); }
        catch (FormatException) { return false; }
    }
}
