using System.Data.Common;
using System.Text.Json.Nodes;
using Gatehouse.Model;
using Gatehouse.Proxy.Pipeline;
using Gatehouse.Proxy.Tracing;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Plugins.Bundled.RateLimiting;

/// <summary>
/// rate-limiting with <c>policy = cluster</c> (Kong 3.x, database nodes only): the windows' counts are read from the
/// gateway database on each request and, when the request is allowed, incremented after it
/// (<see cref="IClusterCounterStore"/>: SQLite or PostgreSQL, as the node's <c>database</c>), keyed as Kong's <c>ratelimiting_metrics</c> rows by the plugin's route and
/// service, so gateways sharing the database share the limit. A database failure proxies the request unlimited when
/// <c>fault_tolerant</c>, else answers 500.
/// </summary>
internal sealed partial class ClusterRateLimitingHandler : PluginHandler
{
    /// <summary>Its store's query span (<see cref="Proxy.Tracing.ClientSpans.OpenDbQuery"/>).</summary>
    internal override bool RecordsSpans => true;

    private readonly PluginModel _plugin;
    private readonly PluginServices _services;
    private readonly RateLimitRules _rules;
    private readonly bool _faultTolerant;
    private readonly ILogger _logger;

    public ClusterRateLimitingHandler(JsonObject config, PluginModel plugin, PluginServices services)
    {
        _plugin = plugin ?? throw new ArgumentNullException(nameof(plugin));
        _services = services ?? throw new ArgumentNullException(nameof(services));
        _rules = new RateLimitRules(config);
        _faultTolerant = ConfigRead.Bool(config, "fault_tolerant", true);
        _logger = services.Loggers.CreateLogger("Gatehouse.Plugins.RateLimiting");
    }

    public override async ValueTask<PhaseOutcome> AccessAsync(Kong kong)
    {
        var now = _services.Time.GetUtcNow();
        var id = _rules.Identifier(kong);
        var limits = _rules.Limits;
        var keys = new ClusterCounterKey[limits.Length];
        var expiries = new long[limits.Length];
        for (var i = 0; i < limits.Length; i++)
        {
            var (start, end) = RateLimitPeriods.Window(limits[i].Period, now);
            keys[i] = new ClusterCounterKey(id, limits[i].Period, start, _plugin.ServiceId ?? Guid.Empty, _plugin.RouteId ?? Guid.Empty);
            expiries[i] = end;
        }
        long[] used;
        var store = _services.Counters.Cluster;
        var span = ClientSpans.OpenDbQuery(kong.Context.Trace, store.DbSystem, store.ReadStatement);
        try
        {
            used = await store.GetAsync(keys, kong.Context.HttpContext.RequestAborted).ConfigureAwait(false);
            ClientSpans.End(span);
        }
        catch (DbException e)
        {
            ClientSpans.End(span, e.Message);
            LogReadFailure(_logger, e.Message);
            return _faultTolerant ? PhaseOutcome.Continue : kong.Response.Exit(500, "An unexpected error occurred");
        }
        var exceeded = false;
        for (var i = 0; i < limits.Length; i++) exceeded |= used[i] >= limits[i].Limit;
        if (!exceeded)
        {
            for (var i = 0; i < limits.Length; i++)
            {
                _services.Counters.Cluster.Increment(keys[i], expiries[i]);
                used[i]++;
            }
        }
        return _rules.Answer(kong, now, used, exceeded);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "failed to get usage from the cluster counters: {Reason}")]
    private static partial void LogReadFailure(ILogger logger, string reason);
}
