using System.Text.Json.Nodes;
using Gatehouse.Model;
using Gatehouse.Proxy.Pipeline;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Gatehouse.Plugins.Bundled.RateLimiting;

/// <summary>
/// rate-limiting with <c>policy = redis</c>: counts the request in every window (INCR, EXPIRE on a new key) and
/// answers 429 when a window was already at its limit — a rejected request is counted too, as Kong's realtime policy
/// does; with <c>sync_rate</c> &gt; 0 it counts through
/// <see cref="RedisSyncedCounters"/> instead. Keys carry the plugin's route and service ids, as
/// Kong's, so gateways sharing a Redis and a configuration share the limit. A Redis failure proxies the request
/// unlimited when <c>fault_tolerant</c>, else answers 500.
/// </summary>
internal sealed partial class RedisRateLimitingHandler : PluginHandler
{
    private readonly PluginModel _plugin;
    private readonly PluginServices _services;
    private readonly RateLimitRules _rules;
    private readonly RedisSettings _redis;
    private readonly bool _faultTolerant;
    private readonly TimeSpan? _syncRate;
    private readonly ILogger _logger;

    public RedisRateLimitingHandler(JsonObject config, PluginModel plugin, PluginServices services)
    {
        _plugin = plugin ?? throw new ArgumentNullException(nameof(plugin));
        _services = services ?? throw new ArgumentNullException(nameof(services));
        _rules = new RateLimitRules(config);
        _redis = RedisSettings.From(config);
        _faultTolerant = ConfigRead.Bool(config, "fault_tolerant", true);
        _logger = services.Loggers.CreateLogger("Gatehouse.Plugins.RateLimiting");
        var syncRate = ConfigRead.Number(config, "sync_rate") ?? RateLimitingPlugin.Realtime;
        _syncRate = syncRate > 0 ? TimeSpan.FromSeconds(syncRate) : null;
    }

    public override async ValueTask<PhaseOutcome> AccessAsync(Kong kong)
    {
        var now = _services.Time.GetUtcNow();
        var id = _rules.Identifier(kong);
        var limits = _rules.Limits;
        var keys = new string[limits.Length];
        var ttls = new TimeSpan[limits.Length];
        var ends = new long[limits.Length];
        for (var i = 0; i < limits.Length; i++)
        {
            var (start, end) = RateLimitPeriods.Window(limits[i].Period, now);
            keys[i] = RedisCounterStore.Key(_plugin.RouteId, _plugin.ServiceId, id, start, limits[i].Period);
            ttls[i] = TimeSpan.FromSeconds(Math.Max(1, end - now.ToUnixTimeSeconds()));
            ends[i] = end;
        }
        long[] used;
        var exceeded = false;
        try
        {
            if (_syncRate is { } syncRate)
            {
                var synced = _services.Counters.Redis.Synced(_redis, _services.Time, _logger);
                (used, var counters) = await synced.UsageAsync(keys, ttls, ends).ConfigureAwait(false);
                for (var i = 0; i < limits.Length; i++) exceeded |= used[i] >= limits[i].Limit;
                if (!exceeded)
                {
                    synced.Increment(counters, syncRate);
                    for (var i = 0; i < used.Length; i++) used[i]++;
                }
                return _rules.Answer(kong, now, used, exceeded);
            }
            // Kong's realtime usage: one INCR per window, returning the count before it — so a rejected request
            // counts too (it still uses up the longer windows' quota).
            used = await _services.Counters.Redis.IncrementReturningPriorAsync(_redis, Array.ConvertAll(keys, k => (RedisKey)k), ttls)
                .ConfigureAwait(false);
            for (var i = 0; i < limits.Length; i++) exceeded |= used[i] >= limits[i].Limit;
            if (!exceeded) for (var i = 0; i < used.Length; i++) used[i]++;
        }
        catch (Exception e) when (e is RedisException or TimeoutException or ObjectDisposedException)
        {
            LogRedisFailure(_logger, _redis.Host, _redis.Port, e.Message);
            return _faultTolerant ? PhaseOutcome.Continue : kong.Response.Exit(500, "An unexpected error occurred");
        }
        return _rules.Answer(kong, now, used, exceeded);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "failed to get usage from Redis {Host}:{Port}: {Reason}")]
    private static partial void LogRedisFailure(ILogger logger, string host, int port, string reason);
}
