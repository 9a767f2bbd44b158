using System.Text.Json.Nodes;
using Gatehouse.Entities;

namespace Gatehouse.Plugins.Bundled.RateLimiting;

/// <summary>
/// rate-limiting's Redis connection settings: Kong 3.x's <c>redis</c> record, with the legacy flat
/// <c>redis_*</c> fields (still accepted by Kong 3.9, deprecated) taking precedence when set.
/// </summary>
/// <param name="Ssl">TLS to Redis.</param>
/// <param name="SslVerify">Verify the server certificate (system trust store; name checked against
/// <paramref name="ServerName"/>, else <paramref name="Host"/>); false accepts any certificate, as Kong's default.</param>
/// <param name="ServerName">The SNI name sent in the TLS handshake (Kong's <c>server_name</c>).</param>
internal sealed record RedisSettings(string Host, int Port, string? Username, string? Password, int Database, int TimeoutMs, bool Ssl,
    bool SslVerify, string? ServerName)
{
    /// <summary>The <c>redis</c> record's fields (Kong 3.x names and defaults; sentinel/cluster not supported).</summary>
    public static FieldDefinition Record { get; } = new("redis", FieldType.Record)
    {
        Required = true,
        Default = new JsonObject(),
        Fields =
        [
            PluginFields.String("host"),
            PluginFields.Integer("port", 6379) with { Between = (0, 65535) },
            // Kong: referenceable (vault references resolved when the configuration is built)
            PluginFields.String("username") with { Referenceable = true },
            PluginFields.String("password") with { Referenceable = true },
            PluginFields.Integer("database", 0),
            PluginFields.Integer("timeout", 2000) with { Between = (0, int.MaxValue) },
            PluginFields.Bool("ssl", false),
            PluginFields.Bool("ssl_verify", false),
            Sni("server_name"),
        ],
    };

    /// <summary>Kong 3.9's deprecated flat fields (optional; a value set here overrides the record's).</summary>
    public static IReadOnlyList<FieldDefinition> Legacy { get; } =
    [
        PluginFields.String("redis_host"),
        new FieldDefinition("redis_port", FieldType.Integer) { Between = (0, 65535) },
        // Kong's shorthands write these into the referenceable redis.username/password
        PluginFields.String("redis_username") with { Referenceable = true },
        PluginFields.String("redis_password") with { Referenceable = true },
        new FieldDefinition("redis_database", FieldType.Integer),
        new FieldDefinition("redis_timeout", FieldType.Integer) { Between = (0, int.MaxValue) },
        new FieldDefinition("redis_ssl", FieldType.Boolean),
        new FieldDefinition("redis_ssl_verify", FieldType.Boolean),
        Sni("redis_server_name"),
    ];

    /// <summary>Kong's <c>typedefs.sni</c>.</summary>
    private static FieldDefinition Sni(string name) =>
        new(name, FieldType.String) { Custom = v => HostValidation.ValidateSni(v.GetValue<string>()) };

    /// <summary>Kong: <c>policy = redis</c> needs a host (in the record or the legacy field).</summary>
    public static EntityCheck HostRequired { get; } = new CustomEntityCheck(["policy", "redis", "redis_host"], c =>
        EntityJson.String(c, "policy") == "redis"
        && ConfigRead.String(c, "redis_host") is null
        && (ConfigRead.Record(c, "redis") is not { } r || ConfigRead.String(r, "host") is null)
            ? "failed conditional validation given value of field 'policy'"
            : null);

    public static RedisSettings From(JsonObject config)
    {
        var r = ConfigRead.Record(config, "redis") ?? [];
        return new RedisSettings(
            ConfigRead.String(config, "redis_host") ?? ConfigRead.String(r, "host") ?? "127.0.0.1",
            (int)(ConfigRead.Long(config, "redis_port") ?? ConfigRead.Long(r, "port") ?? 6379),
            ConfigRead.String(config, "redis_username") ?? ConfigRead.String(r, "username"),
            ConfigRead.String(config, "redis_password") ?? ConfigRead.String(r, "password"),
            (int)(ConfigRead.Long(config, "redis_database") ?? ConfigRead.Long(r, "database") ?? 0),
            (int)(ConfigRead.Long(config, "redis_timeout") ?? ConfigRead.Long(r, "timeout") ?? 2000),
            EntityJson.Bool(config, "redis_ssl") ?? ConfigRead.Bool(r, "ssl"),
            EntityJson.Bool(config, "redis_ssl_verify") ?? ConfigRead.Bool(r, "ssl_verify"),
            ConfigRead.String(config, "redis_server_name") ?? ConfigRead.String(r, "server_name"));
    }
}
