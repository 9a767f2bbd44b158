using System.Net;

namespace Gatehouse.Proxy.Balancing.Dns;

/// <summary>The record types <see cref="DnsCache"/> tries, in <see cref="DnsSettings.Order"/> (Kong's
/// <c>dns_order</c>). <see cref="Last"/> is the type that answered the previous lookup of the same name.</summary>
public enum DnsRecordType { Last, Srv, A, Aaaa, Cname }

/// <summary>How target hostnames are resolved and cached: Kong's <c>dns_*</c> settings.</summary>
/// <param name="Resolvers"><c>dns_resolver</c>: the name servers; empty means the ones in /etc/resolv.conf.</param>
/// <param name="HostsFile"><c>dns_hostsfile</c>: read once, consulted before any query; null: none.</param>
/// <param name="Order"><c>dns_order</c>: record types tried in turn until one answers.</param>
/// <param name="ValidTtl"><c>dns_valid_ttl</c>: when set, replaces the TTL of every answer.</param>
/// <param name="StaleTtl"><c>dns_stale_ttl</c>: how long past its TTL an answer is still served while it is refreshed.</param>
/// <param name="NotFoundTtl"><c>dns_not_found_ttl</c>: how long a name error or an empty answer is cached.</param>
/// <param name="ErrorTtl"><c>dns_error_ttl</c>: how long a failed lookup (server failure, timeout) is cached.</param>
/// <param name="NoSync"><c>dns_no_sync</c>: when true, concurrent lookups of one name each query the server.</param>
/// <param name="QueryTimeout">per-query timeout (Kong takes it from resolv.conf's <c>options timeout</c>).</param>
/// <param name="Attempts">tries per query (resolv.conf's <c>options attempts</c>).</param>
public sealed record DnsSettings(
    IReadOnlyList<IPEndPoint> Resolvers,
    string? HostsFile,
    IReadOnlyList<DnsRecordType> Order,
    TimeSpan? ValidTtl,
    TimeSpan StaleTtl,
    TimeSpan NotFoundTtl,
    TimeSpan ErrorTtl,
    bool NoSync,
    TimeSpan QueryTimeout,
    int Attempts)
{
    /// <summary>Kong 3.9's defaults (kong_defaults.lua).</summary>
    public static DnsSettings Default { get; } = new(
        Resolvers: [],
        HostsFile: "/etc/hosts",
        Order: [DnsRecordType.Last, DnsRecordType.Srv, DnsRecordType.A, DnsRecordType.Cname],
        ValidTtl: null,
        StaleTtl: TimeSpan.FromSeconds(3600),
        NotFoundTtl: TimeSpan.FromSeconds(30),
        ErrorTtl: TimeSpan.FromSeconds(1),
        NoSync: false,
        QueryTimeout: TimeSpan.FromSeconds(2),
        Attempts: 5);

    /// <summary>The settings gatehouse.conf's <c>dns_*</c> keys give (already validated by the conf loader); the query
    /// timeout and attempts keep their defaults.</summary>
    public static DnsSettings From(Gatehouse.Config.DnsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Default with
        {
            Resolvers = options.Resolvers,
            HostsFile = options.HostsFile,
            Order = ParseOrder(string.Join(',', options.Order)),
            ValidTtl = options.ValidTtl,
            StaleTtl = options.StaleTtl,
            NotFoundTtl = options.NotFoundTtl,
            ErrorTtl = options.ErrorTtl,
            NoSync = options.NoSync,
        };
    }

    /// <summary>Parses <c>dns_order</c> (comma-separated, case-insensitive: LAST, SRV, A, AAAA, CNAME).</summary>
    /// <exception cref="FormatException">an unknown type, or an empty list</exception>
    public static IReadOnlyList<DnsRecordType> ParseOrder(string value)
    {
        var order = value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(t => t.ToUpperInvariant() switch
            {
                "LAST" => DnsRecordType.Last,
                "SRV" => DnsRecordType.Srv,
                "A" => DnsRecordType.A,
                "AAAA" => DnsRecordType.Aaaa,
                "CNAME" => DnsRecordType.Cname,
                _ => throw new FormatException($"invalid entry '{t}' (expected LAST, SRV, A, AAAA or CNAME)"),
            }).ToArray();
        return order.Length > 0 ? order : throw new FormatException("expected at least one record type");
    }

    /// <summary>Parses <c>dns_resolver</c>: comma-separated <c>ip[:port]</c> (IPv6 as <c>[ip]:port</c> or bare),
    /// port 53 when omitted.</summary>
    /// <exception cref="FormatException">an entry that is not an IP address with an optional port</exception>
    public static IReadOnlyList<IPEndPoint> ParseResolvers(string value) =>
        value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(entry =>
        {
            // IPEndPoint reads a bare IPv6 address whole (port 0) and [ip]:port with its port
            if (IPEndPoint.TryParse(entry, out var endpoint))
                return endpoint.Port == 0 ? new IPEndPoint(endpoint.Address, 53) : endpoint;
            throw new FormatException($"invalid name server '{entry}' (expected ip[:port])");
        }).ToArray();
}
