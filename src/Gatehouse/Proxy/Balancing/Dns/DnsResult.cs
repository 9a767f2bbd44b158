using System.Net;

namespace Gatehouse.Proxy.Balancing.Dns;

/// <summary>One address a name resolved to. From an SRV record, <see cref="Port"/>, <see cref="Weight"/> and
/// <see cref="Priority"/> come from the record and <see cref="SrvTarget"/> is the name it pointed at; otherwise
/// the port is null (the target's own port applies), weight 0 and priority 0.</summary>
public sealed record DnsAddress(IPAddress Address, int? Port, int Weight, int Priority, string? SrvTarget);

public enum DnsOutcome
{
    /// <summary>The name resolved; <see cref="DnsResult.Addresses"/> is not empty.</summary>
    Resolved,
    /// <summary>Name error (NXDOMAIN) or no record of any type tried: cached for <c>dns_not_found_ttl</c>.</summary>
    NotFound,
    /// <summary>The lookup failed (server failure, refused, timeout, no server): cached for <c>dns_error_ttl</c>.</summary>
    Error,
}

/// <summary>The answer for one name as the cache holds it. Immutable; a refresh replaces it.</summary>
/// <param name="Error">why the name did not resolve (null when resolved), for logs and the health endpoints</param>
/// <param name="ExpiresAt">when the answer's TTL ends; past it the answer is stale and being refreshed</param>
/// <param name="Stale">true when this answer is served past its TTL (while a refresh is under way)</param>
public sealed record DnsResult(string Name, DnsOutcome Outcome, IReadOnlyList<DnsAddress> Addresses, string? Error,
    DateTimeOffset ExpiresAt, bool Stale = false)
{
    public bool IsResolved => Outcome == DnsOutcome.Resolved;
}
