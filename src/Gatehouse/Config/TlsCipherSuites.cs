using System.Net.Security;
using System.Security.Authentication;

namespace Gatehouse.Config;

/// <summary>
/// Kong's <c>ssl_cipher_suite</c> (<c>modern</c>, <c>intermediate</c> — the default —, <c>old</c>, <c>fips</c>,
/// <c>custom</c> with <c>ssl_ciphers</c>) as what .NET can enforce: the TLS 1.2 cipher suites a listener accepts
/// (TLS 1.3's suites are always the safe set), and for <c>modern</c> TLS 1.3 only. Names are OpenSSL's, as in
/// kong.conf; only the ECDHE/DHE AEAD and CBC suites of Kong's own lists are known. <c>old</c> (TLS 1.0/1.1) and
/// <c>fips</c> (an OpenSSL selector expression) cannot be honoured and are refused.
/// </summary>
public sealed record TlsCipherSuites(string Name, IReadOnlyList<TlsCipherSuite>? Tls12Suites, SslProtocols? OnlyProtocols)
{
    private static readonly TlsCipherSuite[] Tls13 =
    [
        TlsCipherSuite.TLS_AES_128_GCM_SHA256, TlsCipherSuite.TLS_AES_256_GCM_SHA384, TlsCipherSuite.TLS_CHACHA20_POLY1305_SHA256,
    ];

    /// <summary>OpenSSL's names of the TLS 1.2 suites in Kong's predefined lists.</summary>
    private static readonly Dictionary<string, TlsCipherSuite> OpenSslNames = new(StringComparer.Ordinal)
    {
        ["ECDHE-ECDSA-AES128-GCM-SHA256"] = TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        ["ECDHE-RSA-AES128-GCM-SHA256"] = TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        ["ECDHE-ECDSA-AES256-GCM-SHA384"] = TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        ["ECDHE-RSA-AES256-GCM-SHA384"] = TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        ["ECDHE-ECDSA-CHACHA20-POLY1305"] = TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        ["ECDHE-RSA-CHACHA20-POLY1305"] = TlsCipherSuite.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        ["DHE-RSA-AES128-GCM-SHA256"] = TlsCipherSuite.TLS_DHE_RSA_WITH_AES_128_GCM_SHA256,
        ["DHE-RSA-AES256-GCM-SHA384"] = TlsCipherSuite.TLS_DHE_RSA_WITH_AES_256_GCM_SHA384,
        ["DHE-RSA-CHACHA20-POLY1305"] = TlsCipherSuite.TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        ["ECDHE-ECDSA-AES128-SHA256"] = TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
        ["ECDHE-RSA-AES128-SHA256"] = TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
        ["ECDHE-ECDSA-AES256-SHA384"] = TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384,
        ["ECDHE-RSA-AES256-SHA384"] = TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384,
        ["ECDHE-ECDSA-AES128-SHA"] = TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
        ["ECDHE-RSA-AES128-SHA"] = TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
        ["ECDHE-ECDSA-AES256-SHA"] = TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
        ["ECDHE-RSA-AES256-SHA"] = TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
        ["DHE-RSA-AES128-SHA256"] = TlsCipherSuite.TLS_DHE_RSA_WITH_AES_128_CBC_SHA256,
        ["DHE-RSA-AES256-SHA256"] = TlsCipherSuite.TLS_DHE_RSA_WITH_AES_256_CBC_SHA256,
        ["AES128-GCM-SHA256"] = TlsCipherSuite.TLS_RSA_WITH_AES_128_GCM_SHA256,
        ["AES256-GCM-SHA384"] = TlsCipherSuite.TLS_RSA_WITH_AES_256_GCM_SHA384,
        ["AES128-SHA256"] = TlsCipherSuite.TLS_RSA_WITH_AES_128_CBC_SHA256,
        ["AES256-SHA256"] = TlsCipherSuite.TLS_RSA_WITH_AES_256_CBC_SHA256,
        ["AES128-SHA"] = TlsCipherSuite.TLS_RSA_WITH_AES_128_CBC_SHA,
        ["AES256-SHA"] = TlsCipherSuite.TLS_RSA_WITH_AES_256_CBC_SHA,
    };

    /// <summary>Kong's intermediate list (kong/conf_loader/constants.lua, Mozilla's intermediate).</summary>
    private const string Intermediate = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:" +
        "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256:" +
        "DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305";

    public static TlsCipherSuites Default { get; } = Resolve("intermediate", null);

    /// <summary>The policy a listener applies: TLS 1.3's suites plus the TLS 1.2 ones of the suite (null for modern, and
    /// on Windows, where SChannel takes no per-listener policy: the system's cipher settings apply there).</summary>
    public CipherSuitesPolicy? Policy() =>
        Tls12Suites is null || OperatingSystem.IsWindows() ? null : new CipherSuitesPolicy([.. Tls13, .. Tls12Suites]);

    /// <summary>Kong's suite name and, for <c>custom</c>, its <c>ssl_ciphers</c>; throws <see cref="FormatException"/>.</summary>
    public static TlsCipherSuites Resolve(string suite, string? ciphers) => suite switch
    {
        "modern" => new(suite, null, SslProtocols.Tls13),
        "intermediate" => new(suite, Parse(Intermediate), null),
        "custom" => new(suite, Parse(ciphers is null or "NONE"
            ? throw new FormatException("ssl_cipher_suite = custom needs ssl_ciphers") : ciphers), null),
        "old" => throw new FormatException("'old' is not supported by Gatehouse (it needs TLSv1 and TLSv1.1, which .NET on this platform's OpenSSL does not offer)"),
        "fips" => throw new FormatException("'fips' is not supported by Gatehouse (its cipher list is an OpenSSL selector expression)"),
        _ => throw new FormatException($"Undefined cipher suite {suite}"),
    };

    private static TlsCipherSuite[] Parse(string list) => [.. list.Split(':', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        .Select(name => OpenSslNames.TryGetValue(name, out var suite) ? suite
            : throw new FormatException($"cipher '{name}' is not supported by Gatehouse (known: the ECDHE, DHE and RSA suites of Kong's predefined lists)"))];
}
