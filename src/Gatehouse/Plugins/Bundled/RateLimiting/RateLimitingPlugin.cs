using System.Globalization;
using System.Text.Json.Nodes;
using Gatehouse.Entities;
using Gatehouse.Proxy.Pipeline;

namespace Gatehouse.Plugins.Bundled.RateLimiting;

/// <summary>
/// Kong's rate-limiting (priority 910), <c>local</c> policy: fixed windows per second…year, counted per consumer,
/// credential, ip, service, header or path; <c>X-RateLimit-*</c> and <c>RateLimit-*</c> headers; 429 at the limit.
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
        PluginFields.String("policy", "local") with { OneOf = ["local"] },
        PluginFields.Bool("fault_tolerant", true),
        PluginFields.Bool("hide_client_headers", false),
        PluginFields.Integer("error_code", 429) with { Gt = 0 },
        PluginFields.String("error_message", "API rate limit exceeded"),
        PluginFields.Number("sync_rate", -1),
    ];
    public override IReadOnlyList<EntityCheck> ConfigChecks { get; } = [new AtLeastOneOfCheck(RateLimitPeriods.Names)];

    public override PluginHandler Create(JsonObject config, PluginBuildContext context) =>
        new RateLimitingHandler(config, context.Plugin.Id, context.Services);
}

internal sealed class RateLimitingHandler : PluginHandler
{
    private readonly Guid _pluginId;
    private readonly PluginServices _services;
    private readonly (string Period, long Limit, string LimitHeader, string RemainingHeader)[] _limits;
    private readonly string _limitBy;
    private readonly string? _headerName;
    private readonly bool _hideHeaders;
    private readonly int _errorCode;
    private readonly string _errorMessage;

    public RateLimitingHandler(JsonObject config, Guid pluginId, PluginServices services)
    {
        _pluginId = pluginId;
        _services = services;
        _limits = [.. RateLimitPeriods.Names.Where(p => ConfigRead.Number(config, p) is not null)
            .Select(p => (p, (long)ConfigRead.Number(config, p)!.Value,
                "X-RateLimit-Limit-" + RateLimitPeriods.Title(p), "X-RateLimit-Remaining-" + RateLimitPeriods.Title(p)))];
        _limitBy = ConfigRead.String(config, "limit_by") ?? "consumer";
        _headerName = ConfigRead.String(config, "header_name");
        _hideHeaders = ConfigRead.Bool(config, "hide_client_headers");
        _errorCode = (int)(ConfigRead.Long(config, "error_code") ?? 429);
        _errorMessage = ConfigRead.String(config, "error_message") ?? "API rate limit exceeded";
    }

    public override ValueTask<PhaseOutcome> AccessAsync(Kong kong)
    {
        var now = _services.Time.GetUtcNow();
        var id = Identifier(kong);
        long bestRemaining = long.MaxValue, bestLimit = 0, bestReset = 0;
        var exceeded = false;
        Span<long> usage = stackalloc long[_limits.Length];
        for (var i = 0; i < _limits.Length; i++)
        {
            var (period, limit, _, _) = _limits[i];
            var (start, _) = RateLimitPeriods.Window(period, now);
            usage[i] = _services.Counters.Get(_pluginId, id, period, start);
            exceeded |= usage[i] >= limit;
        }
        for (var i = 0; i < _limits.Length; i++)
        {
            var (period, limit, limitHeader, remainingHeader) = _limits[i];
            var (start, end) = RateLimitPeriods.Window(period, now);
            var used = exceeded ? usage[i] : _services.Counters.Increment(_pluginId, id, period, start, end, now.ToUnixTimeSeconds());
            var remaining = Math.Max(0, limit - used);
            if (!_hideHeaders)
            {
                kong.Response.SetHeader(limitHeader, Num(limit), deferred: true);
                kong.Response.SetHeader(remainingHeader, Num(remaining), deferred: true);
            }
            if (remaining < bestRemaining || (remaining == bestRemaining && limit < bestLimit))
                (bestRemaining, bestLimit, bestReset) = (remaining, limit, Math.Max(1, end - now.ToUnixTimeSeconds()));
        }
        if (!_hideHeaders)
        {
            kong.Response.SetHeader("RateLimit-Limit", Num(bestLimit), deferred: true);
            kong.Response.SetHeader("RateLimit-Remaining", Num(bestRemaining), deferred: true);
            kong.Response.SetHeader("RateLimit-Reset", Num(bestReset), deferred: true);
        }
        if (!exceeded) return ValueTask.FromResult(PhaseOutcome.Continue);
        kong.Response.SetHeader("Retry-After", Num(bestReset), deferred: true);
        return ValueTask.FromResult(kong.Response.Exit(_errorCode, _errorMessage));
    }

    private string Identifier(Kong kong) => _limitBy switch
    {
        "consumer" => kong.Consumer?.Id.ToString() ?? kong.ClientIp,
        "credential" => kong.CredentialIdentifier ?? kong.ClientIp,
        "service" => kong.Service?.Id.ToString() ?? kong.ClientIp,
        "header" => (_headerName is null ? null : kong.Request.Header(_headerName)) ?? kong.ClientIp,
        "path" => kong.Request.Path,
        _ => kong.ClientIp,
    };

    private static string Num(long n) => n.ToString(CultureInfo.InvariantCulture);
}
