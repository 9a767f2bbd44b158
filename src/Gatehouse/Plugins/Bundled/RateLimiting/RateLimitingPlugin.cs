using System.Globalization;
using System.Text.Json.Nodes;
using Gatehouse.Entities;
using Gatehouse.Proxy.Pipeline;

namespace Gatehouse.Plugins.Bundled.RateLimiting;

/// <summary>
/// Kong's rate-limiting (priority 910), <c>local</c>, <c>cluster</c> (<see cref="ClusterRateLimitingHandler"/>) and
/// <c>redis</c> policies (with <c>sync_rate</c>: <see cref="RedisSyncedCounters"/>): fixed windows per second…year, counted
/// per consumer, credential, ip, service, header or path; <c>X-RateLimit-*</c> and <c>RateLimit-*</c> headers; 429 at
/// the limit. With <c>redis</c>, counters live in Redis (shared by every gateway using it); when Redis fails the request
/// is proxied without limiting if <c>fault_tolerant</c>, else answered 500.
/// </summary>
public sealed class RateLimitingPlugin : GatehousePlugin
{
    /// <summary>The <c>sync_rate</c> value meaning "synchronous" (Kong's SYNC_RATE_REALTIME).</summary>
    public const double Realtime = -1;

    /// <param name="clusterPolicy">False on a DB-less node: Kong's schema offers <c>cluster</c> only with a database.</param>
    public RateLimitingPlugin(bool clusterPolicy = true)
    {
        ConfigFields =
        [
            .. RateLimitPeriods.Names.Select(p => PluginFields.Number(p) with { Gt = 0 }),
            // Kong 3.9's open-source list: no "consumer-group" (an Enterprise value; Gatehouse has no consumer groups).
            PluginFields.String("limit_by", "consumer") with { OneOf = ["consumer", "credential", "ip", "service", "header", "path"] },
            PluginFields.String("header_name"),
            Typedefs.Path("path"),
            PluginFields.String("policy", "local") with { OneOf = clusterPolicy ? ["local", "cluster", "redis"] : ["local", "redis"] },
            PluginFields.Bool("fault_tolerant", true),
            PluginFields.Bool("hide_client_headers", false),
            PluginFields.Integer("error_code", 429) with { Gt = 0 },
            PluginFields.String("error_message", "API rate limit exceeded"),
            PluginFields.Number("sync_rate", Realtime) with { Required = true },
            RedisSettings.Record,
            .. RedisSettings.Legacy,
        ];
    }

    public override string Name => "rate-limiting";
    public override int Priority => 910;
    public override IReadOnlyList<FieldDefinition> ConfigFields { get; }
    public override IReadOnlyList<EntityCheck> ConfigChecks { get; } =
        [
            new AtLeastOneOfCheck(RateLimitPeriods.Names), RedisSettings.HostRequired, SyncRateCheck,
            // Kong's conditionals: the identity limit_by names must be configured.
            new ConditionalCheck("limit_by", v => v?.GetValue<string>() == "header", "header_name", Required),
            new ConditionalCheck("limit_by", v => v?.GetValue<string>() == "path", "path", Required),
        ];

    private static string? Required(JsonNode? value) => value is null ? "required field missing" : null;

    /// <summary>Kong 3.x: <c>sync_rate</c> applies to the redis policy only, and then is -1 or at least 0.02 s.</summary>
    private static EntityCheck SyncRateCheck { get; } = new CustomEntityCheck(["policy", "sync_rate"], c =>
    {
        var rate = ConfigRead.Number(c, "sync_rate") ?? Realtime;
        if (rate == Realtime) return null;
        if (EntityJson.String(c, "policy") != "redis") return "sync_rate can only be used with the redis policy";
        return rate < 0.02 ? "sync_rate must be greater than 0.02, or -1 to disable" : null;
    });

    public override PluginHandler Create(JsonObject config, PluginBuildContext context) => ConfigRead.String(config, "policy") switch
    {
        "redis" => new RedisRateLimitingHandler(config, context.Plugin, context.Services),
        "cluster" => new ClusterRateLimitingHandler(config, context.Plugin, context.Services),
        _ => new RateLimitingHandler(config, context.Plugin.Id, context.Services),
    };
}

internal sealed class RateLimitingHandler : PluginHandler
{
    private readonly Guid _pluginId;
    private readonly PluginServices _services;
    private readonly RateLimitRules _rules;

    public RateLimitingHandler(JsonObject config, Guid pluginId, PluginServices services)
    {
        _pluginId = pluginId;
        _services = services;
        _rules = new RateLimitRules(config);
    }

    public override ValueTask<PhaseOutcome> AccessAsync(Kong kong)
    {
        var now = _services.Time.GetUtcNow();
        var id = _rules.Identifier(kong);
        var limits = _rules.Limits;
        var exceeded = false;
        Span<long> used = stackalloc long[limits.Length];
        for (var i = 0; i < limits.Length; i++)
        {
            var (start, _) = RateLimitPeriods.Window(limits[i].Period, now);
            used[i] = _services.Counters.Get(_pluginId, id, limits[i].Period, start);
            exceeded |= used[i] >= limits[i].Limit;
        }
        if (!exceeded)
        {
            for (var i = 0; i < limits.Length; i++)
            {
                var (start, end) = RateLimitPeriods.Window(limits[i].Period, now);
                used[i] = _services.Counters.Increment(_pluginId, id, limits[i].Period, start, end, now.ToUnixTimeSeconds());
            }
        }
        return ValueTask.FromResult(_rules.Answer(kong, now, used, exceeded));
    }
}
