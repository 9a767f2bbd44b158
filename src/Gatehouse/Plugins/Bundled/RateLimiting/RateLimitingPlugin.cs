using System.Globalization;
using System.Text.Json.Nodes;
using Gatehouse.Entities;
using Gatehouse.Proxy.Pipeline;

namespace Gatehouse.Plugins.Bundled.RateLimiting;

/// <summary>
/// Kong's rate-limiting (priority 910), <c>local</c> and <c>redis</c> policies: fixed windows per second…year, counted
/// per consumer, credential, ip, service, header or path; <c>X-RateLimit-*</c> and <c>RateLimit-*</c> headers; 429 at
/// the limit. With <c>redis</c>, counters live in Redis (shared by every gateway using it); when Redis fails the request
/// is proxied without limiting if <c>fault_tolerant</c>, else answered 500.
/// </summary>
public sealed class RateLimitingPlugin : GatehousePlugin
{
    public override string Name => "rate-limiting";
    public override int Priority => 910;
    public override IReadOnlyList<FieldDefinition> ConfigFields { get; } =
    [
        .. RateLimitPeriods.Names.Select(p => PluginFields.Number(p) with { Gt = 0 }),
        PluginFields.String("limit_by", "consumer") with { OneOf = ["consumer", "credential", "ip", "service", "header", "path", "consumer-group"] },
        PluginFields.String("header_name"),
        PluginFields.String("path"),
        PluginFields.String("policy", "local") with { OneOf = ["local", "redis"] },
        PluginFields.Bool("fault_tolerant", true),
        PluginFields.Bool("hide_client_headers", false),
        PluginFields.Integer("error_code", 429) with { Gt = 0 },
        PluginFields.String("error_message", "API rate limit exceeded"),
        PluginFields.Number("sync_rate", -1),
        RedisSettings.Record,
        .. RedisSettings.Legacy,
    ];
    public override IReadOnlyList<EntityCheck> ConfigChecks { get; } =
        [new AtLeastOneOfCheck(RateLimitPeriods.Names), RedisSettings.HostRequired];

    public override PluginHandler Create(JsonObject config, PluginBuildContext context) =>
        ConfigRead.String(config, "policy") == "redis"
            ? new RedisRateLimitingHandler(config, context.Plugin, context.Services)
            : new RateLimitingHandler(config, context.Plugin.Id, context.Services);
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
