using System.Collections.Concurrent;
using System.Globalization;
using StackExchange.Redis;

namespace Gatehouse.Plugins.Bundled.RateLimiting;

/// <summary>
/// rate-limiting's <c>redis</c> policy store: one multiplexed connection per distinct server setting, kept across
/// configuration snapshots (Kong's cosocket pool). Counters are Kong-shaped keys
/// (<c>ratelimit:&lt;route&gt;:&lt;service&gt;:&lt;identifier&gt;:&lt;window start ms&gt;:&lt;period&gt;</c>) so every
/// gateway sharing one Redis sees one limit. Errors surface as exceptions; the handler applies <c>fault_tolerant</c>.
/// </summary>
public sealed class RedisCounterStore : IDisposable
{
    private readonly ConcurrentDictionary<RedisSettings, Lazy<Task<ConnectionMultiplexer>>> _connections = new();
    private readonly ConcurrentDictionary<RedisSettings, RedisSyncedCounters> _synced = new();
    private readonly CancellationTokenSource _stopping = new();

    /// <summary>Cancelled on dispose: pending <c>sync_rate</c> flushes are abandoned.</summary>
    internal CancellationToken Stopping => _stopping.Token;

    /// <summary>The <c>sync_rate</c> counters of one Redis server setting (created on first use).</summary>
    internal RedisSyncedCounters Synced(RedisSettings settings, TimeProvider time, Microsoft.Extensions.Logging.ILogger logger) =>
        _synced.GetOrAdd(settings, s => new RedisSyncedCounters(this, s, time, logger));

    public static string Key(Guid? route, Guid? service, string identifier, long windowStart, string period) =>
        string.Create(CultureInfo.InvariantCulture,
            $"ratelimit:{route ?? Guid.Empty}:{service ?? Guid.Empty}:{identifier}:{windowStart * 1000}:{period}");

    /// <summary>Counts one request on each key and returns the counts before it (INCR, EXPIRE on a new key; the
    /// windows in parallel on one multiplexed connection): Kong's realtime usage, and how <c>sync_rate</c> reads the
    /// shared value.</summary>
    internal async Task<long[]> IncrementReturningPriorAsync(RedisSettings settings, RedisKey[] keys, TimeSpan[] ttls)
    {
        var db = await DatabaseAsync(settings).ConfigureAwait(false);
        var results = await Task.WhenAll(keys.Select((k, i) => db.ScriptEvaluateAsync(CountScript, [k], [(long)ttls[i].TotalSeconds])))
            .ConfigureAwait(false);
        return [.. results.Select(r => (long)r)];
    }

    /// <summary>Adds each delta (INCRBY), setting the window's end as expiry on keys that have none, in one batch.</summary>
    internal async Task AddAsync(RedisSettings settings, IReadOnlyList<(RedisKey Key, long Delta, long ExpireAt)> deltas)
    {
        var db = await DatabaseAsync(settings).ConfigureAwait(false);
        var batch = db.CreateBatch();
        var tasks = deltas.Select(d => batch.ScriptEvaluateAsync(AddScript, [d.Key], [d.Delta, d.ExpireAt])).ToArray();
        batch.Execute();
        await Task.WhenAll(tasks).ConfigureAwait(false);
    }

    private const string CountScript =
        "local n = redis.call('INCR', KEYS[1]) if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end return n - 1";

    private const string AddScript =
        "redis.call('INCRBY', KEYS[1], ARGV[1]) if redis.call('TTL', KEYS[1]) < 0 then redis.call('EXPIREAT', KEYS[1], ARGV[2]) end return 0";

    private async Task<IDatabase> DatabaseAsync(RedisSettings settings)
    {
        var lazy = _connections.GetOrAdd(settings, s => new Lazy<Task<ConnectionMultiplexer>>(() => ConnectAsync(s)));
        try
        {
            return (await lazy.Value.ConfigureAwait(false)).GetDatabase(settings.Database);
        }
        catch
        {
            _connections.TryRemove(new KeyValuePair<RedisSettings, Lazy<Task<ConnectionMultiplexer>>>(settings, lazy));
            throw;
        }
    }

    private static Task<ConnectionMultiplexer> ConnectAsync(RedisSettings s)
    {
        var options = new ConfigurationOptions
        {
            EndPoints = { { s.Host, s.Port } },
            User = s.Username,
            Password = s.Password,
            Ssl = s.Ssl,
            ConnectTimeout = s.TimeoutMs,
            SyncTimeout = s.TimeoutMs,
            AsyncTimeout = s.TimeoutMs,
            AbortOnConnectFail = false,
            ConnectRetry = 1,
        };
        if (s.Ssl)
        {
            // Kong: server_name is the SNI (and, when verifying, the name the certificate must carry);
            // ssl_verify = false (Kong's default) accepts any certificate.
            if (s.ServerName is not null) options.SslHost = s.ServerName;
            if (!s.SslVerify) options.CertificateValidation += static (_, _, _, _) => true;
        }
        return ConnectionMultiplexer.ConnectAsync(options);
    }

    public void Dispose()
    {
        _stopping.Cancel();
        foreach (var lazy in _connections.Values)
            if (lazy.IsValueCreated && lazy.Value.IsCompletedSuccessfully) lazy.Value.Result.Dispose();
        _connections.Clear();
    }
}
