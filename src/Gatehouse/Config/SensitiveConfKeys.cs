namespace Gatehouse.Config;

/// <summary>The settings Kong treats as secrets: <c>GET /</c> masks them and <c>kong.configuration.*</c> does not
/// give them to filters. Passwords, secrets, tokens and private keys.</summary>
public static class SensitiveConfKeys
{
    private static readonly string[] Named = ["pg_password", "pg_ro_password", "cassandra_password", "proxy_server",
        "declarative_config_string", "vault_hcv_token", "admin_token"];

    public static bool IsSensitive(string key) =>
        Named.Contains(key) || key.Contains("password", StringComparison.Ordinal) || key.Contains("secret", StringComparison.Ordinal)
        || key.EndsWith("_key", StringComparison.Ordinal) || key.Contains("cert_key", StringComparison.Ordinal);
}
