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
}
