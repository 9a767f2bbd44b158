using System.Collections.Concurrent;
using System.Net;
using DnsClient;
using DnsClient.Protocol;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Proxy.Balancing.Dns;

/// <summary>
/// Resolves upstream target hostnames with caching that honours the records' TTLs, as Kong's DNS client does:
/// the hosts file first, then the record types of <c>dns_order</c> through the configured name servers. An answer
/// is served until its TTL ends; then it is refreshed in the background and the old answer is served (marked stale)
/// until the refresh lands or <c>dns_stale_ttl</c> passes. Names that do not resolve are a
/// <see cref="DnsOutcome.NotFound"/> or <see cref="DnsOutcome.Error"/> result, cached for <c>dns_not_found_ttl</c> /
/// <c>dns_error_ttl</c>, never an exception. Concurrent lookups of one name share one query (unless
/// <c>dns_no_sync</c>). Names in use (read since their last answer) are re-queried when their TTL ends, so their
/// users see <see cref="Changed"/> without waiting for a request.
/// </summary>
public sealed class DnsCache : IDisposable
{
    private const int MaxCnameDepth = 8;

    private readonly DnsSettings _settings;
    private readonly HostsFile _hosts;
    // made at the first name that needs a server: a gateway whose targets are IP addresses or hosts-file names never
    // loads DnsClient (nor the network-information types it reads resolv.conf with; issue #16 goal 4)
    private NameServers? _servers;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.OrdinalIgnoreCase);
    private readonly CancellationTokenSource _stop = new();
    private volatile IReadOnlySet<string> _kept = new HashSet<string>();

    public DnsCache(DnsSettings settings, ILogger<DnsCache> log, TimeProvider? time = null)
    {
        _settings = settings;
        _log = log;
        _time = time ?? TimeProvider.System;
        _hosts = HostsFile.Load(settings.HostsFile);
    }

    /// <summary>The resolver client, or why there is none; kept apart from the constructor so that DnsClient's types
    /// are loaded (and this method jitted) only when a name is first sent to a server.</summary>
    private sealed class NameServers(LookupClient? client, string? error)
    {
        public LookupClient? Client { get; } = client;
        public string? Error { get; } = error;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private NameServers CreateNameServers()
    {
        var settings = _settings;
        var options = settings.Resolvers.Count == 0
            ? new LookupClientOptions { AutoResolveNameServers = true }
            : new LookupClientOptions(settings.Resolvers.ToArray());
        options.UseCache = false; // this class is the cache: it knows stale and not-found TTLs
        options.Timeout = settings.QueryTimeout;
        options.Retries = Math.Max(0, settings.Attempts - 1);
        options.ThrowDnsErrors = false;
        options.UseTcpFallback = true;
        try
        {
            return new NameServers(new LookupClient(options), null);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or IOException)
        {
            // no usable name server (e.g. no resolv.conf): names outside the hosts file are lookup errors, not a crash
            _log.LogWarning("DNS: no name server to ask ({Error}); only the hosts file and IP addresses resolve", e.Message);
            return new NameServers(null, e.Message);
        }
    }

    /// <summary>Raised (on a background thread) when a refresh changes a name's addresses or outcome: the
    /// balancer of a target with that name rebuilds its peers.</summary>
    public event Action<DnsResult>? Changed;

    /// <summary>The answer for <paramref name="name"/> without waiting for the network: the cached answer (stale
    /// past its TTL, while a refresh runs), or null when there is none yet (a lookup has been started).</summary>
    public DnsResult? TryGetCached(string name)
    {
        if (IPAddress.TryParse(name, out var literal)) return Literal(name, literal);
        var entry = _entries.GetOrAdd(name, static n => new Entry(n));
        var served = Serve(entry);
        if (served is null) _ = StartLookup(entry);
        return served;
    }

    /// <summary>The answer for <paramref name="name"/>: at once when one is cached (stale answers included, a
    /// refresh runs behind them), else after one lookup shared with every concurrent caller.</summary>
    public ValueTask<DnsResult> ResolveAsync(string name, CancellationToken cancellationToken = default)
    {
        if (IPAddress.TryParse(name, out var literal)) return ValueTask.FromResult(Literal(name, literal));
        var entry = _entries.GetOrAdd(name, static n => new Entry(n));
        var served = Serve(entry);
        return served is not null
            ? ValueTask.FromResult(served)
            : new ValueTask<DnsResult>(StartLookup(entry).WaitAsync(cancellationToken));
    }

    /// <summary>The names whose answers are re-queried whenever they expire, whether read since or not (the targets
    /// of the upstreams in use): their users learn of a change through <see cref="Changed"/>. Replaces the previous
    /// set.</summary>
    public void KeepFresh(IEnumerable<string> names) =>
        _kept = names.ToHashSet(StringComparer.OrdinalIgnoreCase);

    public void Dispose()
    {
        _stop.Cancel();
        foreach (var entry in _entries.Values) entry.DisposeTimer();
    }

    private static DnsResult Literal(string name, IPAddress address) =>
        new(name, DnsOutcome.Resolved, [new DnsAddress(address, null, 0, 0, null)], null, DateTimeOffset.MaxValue);

    /// <summary>The cached answer if it may be served now (starting its refresh when it is past its TTL).</summary>
    private DnsResult? Serve(Entry entry)
    {
        entry.Used = true; // a caller wants this name: keep it fresh when its TTL ends
        var result = entry.Result;
        if (result is null) return null;
        var now = _time.GetUtcNow();
        if (now < result.ExpiresAt) return result;
        if (result.IsResolved && now - result.ExpiresAt < _settings.StaleTtl)
        {
            if (now >= entry.RetryAt) _ = StartLookup(entry);
            return result with { Stale = true };
        }
        return null;
    }

    /// <param name="unlessFresh">false for the refresh timer (it may fire a little before the expiry it was set for)</param>
    private Task<DnsResult> StartLookup(Entry entry, bool unlessFresh = true)
    {
        // a reader that saw the old answer just before a lookup stored a fresh one (and cleared Pending) must not ask again
        if (unlessFresh && entry.Result is { } current && _time.GetUtcNow() < current.ExpiresAt) return Task.FromResult(current);
        if (_settings.NoSync) return LookupAndStoreAsync(entry);
        lock (entry)
        {
            if (entry.Pending is { } pending) return pending;
            if (unlessFresh && entry.Result is { } stored && _time.GetUtcNow() < stored.ExpiresAt) return Task.FromResult(stored);
            var task = LookupAndStoreAsync(entry);
            // a lookup that completed synchronously (hosts file) must not stay pending
            if (!task.IsCompleted) entry.Pending = task;
            return task;
        }
    }

    private async Task<DnsResult> LookupAndStoreAsync(Entry entry)
    {
        DnsResult result;
        try
        {
            result = await QueryAsync(entry, entry.Name, 0).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !_stop.IsCancellationRequested)
        {
            result = Failed(entry.Name, DnsOutcome.Error, e.Message);
        }
        catch (OperationCanceledException)
        {
            result = Failed(entry.Name, DnsOutcome.Error, "dns cache disposed");
        }
        try
        {
            return Store(entry, result);
        }
        finally
        {
            // only once the answer is stored: a reader in between would see the old answer and no lookup, and ask again
            lock (entry) entry.Pending = null;
        }
    }

    private DnsResult Store(Entry entry, DnsResult result)
    {
        var previous = entry.Result;
        var now = _time.GetUtcNow();
        if (result.Outcome == DnsOutcome.Error && previous is { IsResolved: true }
            && now - previous.ExpiresAt < _settings.StaleTtl)
        {
            // the resolver is down: keep serving the last good answer (dns_stale_ttl) and ask again after dns_error_ttl
            entry.RetryAt = now + _settings.ErrorTtl;
            _log.LogWarning("DNS refresh of {Name} failed ({Error}); serving the previous answer", entry.Name, result.Error);
            ScheduleRefresh(entry, entry.RetryAt);
            return previous with { Stale = now >= previous.ExpiresAt };
        }
        entry.Result = result;
        entry.RetryAt = DateTimeOffset.MinValue;
        if (result.IsResolved) _log.LogDebug("DNS {Name} resolved to {Addresses}", entry.Name, Describe(result));
        else _log.LogWarning("DNS {Name} did not resolve: {Outcome} {Error}", entry.Name, result.Outcome, result.Error);
        // not-found and failed answers are asked again too once their TTL ends, so a name that starts resolving is noticed
        if (result.ExpiresAt != DateTimeOffset.MaxValue) ScheduleRefresh(entry, result.ExpiresAt);
        if (previous is not null && !SameAnswer(previous, result)) Changed?.Invoke(result);
        return result;
    }

    /// <summary>Re-queries a name in use when its answer expires, so the refresh does not wait for a request.</summary>
    private void ScheduleRefresh(Entry entry, DateTimeOffset at)
    {
        if (_stop.IsCancellationRequested) return;
        var due = at - _time.GetUtcNow();
        if (due < TimeSpan.Zero) due = TimeSpan.Zero;
        lock (entry)
        {
            entry.Timer ??= _time.CreateTimer(static state =>
            {
                var (cache, e) = ((DnsCache, Entry))state!;
                // not read since and not kept fresh: let it age out
                if (cache._stop.IsCancellationRequested || !(e.Used || cache._kept.Contains(e.Name))) return;
                e.Used = false;
                _ = cache.StartLookup(e, unlessFresh: false);
            }, (this, entry), Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            entry.Timer.Change(due, Timeout.InfiniteTimeSpan);
        }
    }

    private async Task<DnsResult> QueryAsync(Entry entry, string name, int depth)
    {
        var ct = _stop.Token;
        string? error = null;
        foreach (var type in EffectiveOrder(entry))
        {
            if (FromHosts(name, type) is { } hosts) return hosts;
            var (result, failure) = type switch
            {
                DnsRecordType.A => await AddressQueryAsync(name, QueryType.A, ct).ConfigureAwait(false),
                DnsRecordType.Aaaa => await AddressQueryAsync(name, QueryType.AAAA, ct).ConfigureAwait(false),
                DnsRecordType.Srv => await SrvQueryAsync(name, ct).ConfigureAwait(false),
                DnsRecordType.Cname => depth < MaxCnameDepth
                    ? await CnameQueryAsync(entry, name, depth, ct).ConfigureAwait(false)
                    : (null, "CNAME chain too long"),
                _ => (null, null),
            };
            if (result is not null)
            {
                if (depth == 0) entry.LastType = type;
                return result;
            }
            error ??= failure;
        }
        // a transient failure of any type is not evidence the name is missing: cache it only for dns_error_ttl
        return error is not null
            ? Failed(name, DnsOutcome.Error, error)
            : Failed(name, DnsOutcome.NotFound, "name error or no records");
    }

    private IEnumerable<DnsRecordType> EffectiveOrder(Entry entry)
    {
        var last = entry.LastType;
        var seen = new HashSet<DnsRecordType>();
        foreach (var type in _settings.Order)
        {
            var actual = type == DnsRecordType.Last ? last : type;
            if (actual != DnsRecordType.Last && seen.Add(actual)) yield return actual;
        }
    }

    private DnsResult? FromHosts(string name, DnsRecordType type)
    {
        if (type is not (DnsRecordType.A or DnsRecordType.Aaaa) || _hosts.Find(name) is not { } addresses) return null;
        var family = type == DnsRecordType.A
            ? System.Net.Sockets.AddressFamily.InterNetwork : System.Net.Sockets.AddressFamily.InterNetworkV6;
        var matching = addresses.Where(a => a.AddressFamily == family).Select(a => new DnsAddress(a, null, 0, 0, null)).ToArray();
        // hosts file entries do not expire (Kong reads the file once)
        return matching.Length == 0 ? null : new DnsResult(name, DnsOutcome.Resolved, matching, null, DateTimeOffset.MaxValue);
    }

    /// <summary>Null result with null failure: the name has no such record (not an error).</summary>
    private async Task<(DnsResult?, string?)> AddressQueryAsync(string name, QueryType type, CancellationToken ct)
    {
        var (response, failure) = await AskAsync(name, type, ct).ConfigureAwait(false);
        if (response is null) return (null, failure);
        var records = response.Answers.OfType<AddressRecord>()
            .Where(r => type == QueryType.A ? r is ARecord : r is AaaaRecord).ToArray();
        if (records.Length == 0) return (null, null);
        var ttl = records.Min(r => r.TimeToLive);
        return (Resolved(name, records.Select(r => new DnsAddress(r.Address, null, 0, 0, null)).ToArray(), ttl), null);
    }

    private async Task<(DnsResult?, string?)> SrvQueryAsync(string name, CancellationToken ct)
    {
        var (response, failure) = await AskAsync(name, QueryType.SRV, ct).ConfigureAwait(false);
        if (response is null) return (null, failure);
        var records = response.Answers.SrvRecords().ToArray();
        if (records.Length == 0) return (null, null);
        var addresses = new List<DnsAddress>();
        var ttl = records.Min(r => r.TimeToLive);
        foreach (var srv in records)
        {
            var target = srv.Target.Value.TrimEnd('.');
            IReadOnlyList<IPAddress>? ips = IPAddress.TryParse(target, out var literal) ? [literal] : _hosts.Find(target);
            if (ips is null)
            {
                // the server usually sends the target's addresses along; ask when it did not
                var glue = response.Additionals.OfType<ARecord>().Where(a => a.DomainName.Value.TrimEnd('.')
                    .Equals(target, StringComparison.OrdinalIgnoreCase)).ToArray();
                if (glue.Length == 0)
                {
                    var (sub, _) = await AddressQueryAsync(target, QueryType.A, ct).ConfigureAwait(false);
                    ips = sub?.Addresses.Select(a => a.Address).ToArray();
                    if (sub is not null) ttl = Math.Min(ttl, (int)Math.Max(0, (sub.ExpiresAt - _time.GetUtcNow()).TotalSeconds));
                }
                else
                {
                    ips = glue.Select(a => a.Address).ToArray();
                    ttl = Math.Min(ttl, glue.Min(a => a.TimeToLive));
                }
            }
            foreach (var ip in ips ?? []) addresses.Add(new DnsAddress(ip, srv.Port, srv.Weight, srv.Priority, target));
        }
        return addresses.Count == 0 ? (null, null) : (Resolved(name, addresses, ttl), null);
    }

    private async Task<(DnsResult?, string?)> CnameQueryAsync(Entry entry, string name, int depth, CancellationToken ct)
    {
        var (response, failure) = await AskAsync(name, QueryType.CNAME, ct).ConfigureAwait(false);
        if (response is null) return (null, failure);
        var cname = response.Answers.CnameRecords().FirstOrDefault();
        if (cname is null) return (null, null);
        var canonical = cname.CanonicalName.Value.TrimEnd('.');
        var target = await QueryAsync(entry, canonical, depth + 1).ConfigureAwait(false);
        if (!target.IsResolved) return (null, target.Outcome == DnsOutcome.Error ? target.Error : null);
        var ttl = TimeSpan.FromSeconds(cname.TimeToLive);
        var expires = target.ExpiresAt - _time.GetUtcNow() < ttl ? target.ExpiresAt : _time.GetUtcNow() + Ttl(cname.TimeToLive);
        return (target with { Name = name, ExpiresAt = expires }, null);
    }

    /// <summary>One query: the response when the server answered NOERROR or NXDOMAIN (NXDOMAIN has no answers),
    /// else the failure.</summary>
    private async Task<(IDnsQueryResponse?, string?)> AskAsync(string name, QueryType type, CancellationToken ct)
    {
        var servers = _servers ?? LazyInitializer.EnsureInitialized(ref _servers, CreateNameServers);
        if (servers.Client is null) return (null, $"{type}: {servers.Error}");
        try
        {
            var response = await servers.Client.QueryAsync(name, type, QueryClass.IN, ct).ConfigureAwait(false);
            if (!response.HasError || response.Header.ResponseCode == DnsHeaderResponseCode.NotExistentDomain)
                return (response, null);
            return (null, $"{type}: {response.ErrorMessage}");
        }
        catch (DnsResponseException e)
        {
            return (null, $"{type}: {e.Message}");
        }
    }

    private DnsResult Resolved(string name, IReadOnlyList<DnsAddress> addresses, int ttlSeconds) =>
        new(name, DnsOutcome.Resolved, addresses, null, _time.GetUtcNow() + Ttl(ttlSeconds));

    private TimeSpan Ttl(int seconds) => _settings.ValidTtl ?? TimeSpan.FromSeconds(Math.Max(0, seconds));

    private DnsResult Failed(string name, DnsOutcome outcome, string error) =>
        new(name, outcome, [], error,
            _time.GetUtcNow() + (outcome == DnsOutcome.NotFound ? _settings.NotFoundTtl : _settings.ErrorTtl));

    private static bool SameAnswer(DnsResult a, DnsResult b) =>
        a.Outcome == b.Outcome && a.Addresses.Count == b.Addresses.Count
        && a.Addresses.All(x => b.Addresses.Any(y => y.Address.Equals(x.Address) && y.Port == x.Port && y.Weight == x.Weight));

    private static string Describe(DnsResult result) =>
        string.Join(",", result.Addresses.Select(a => a.Port is { } p ? $"{a.Address}:{p}" : a.Address.ToString()));

    /// <summary>One name's cache slot. <see cref="Result"/> is swapped whole; the rest is guarded by the entry's lock
    /// or only hints (Used, LastType, RetryAt).</summary>
    private sealed class Entry(string name)
    {
        public string Name { get; } = name;
        public volatile DnsResult? Result;
        public volatile bool Used;
        public DnsRecordType LastType = DnsRecordType.Last;
        private long _retryAtTicks = DateTimeOffset.MinValue.UtcTicks;

        public DateTimeOffset RetryAt
        {
            get => new(Interlocked.Read(ref _retryAtTicks), TimeSpan.Zero);
            set => Interlocked.Exchange(ref _retryAtTicks, value.UtcTicks);
        }
        public Task<DnsResult>? Pending;
        public ITimer? Timer;

        public void DisposeTimer()
        {
            lock (this) Timer?.Dispose();
        }
    }
}
