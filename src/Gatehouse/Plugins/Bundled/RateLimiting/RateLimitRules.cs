using System.Globalization;
using System.Text.Json.Nodes;
using Gatehouse.Proxy.Pipeline;

namespace Gatehouse.Plugins.Bundled.RateLimiting;

/// <summary>
/// The policy-independent half of rate-limiting: the configured limits, who is counted (<c>limit_by</c>) and the
/// answer (headers, 429) once a policy has produced the usage of each period.
/// </summary>
internal sealed class RateLimitRules
{
    private readonly string _limitBy;
    private readonly string? _headerName;
    private readonly string? _path;
    private readonly bool _hideHeaders;
    private readonly int _errorCode;
    private readonly string _errorMessage;

    public RateLimitRules(JsonObject config)
    {
        Limits = [.. RateLimitPeriods.Names.Where(p => ConfigRead.Number(config, p) is not null)
            .Select(p => new PeriodLimit(p, (long)ConfigRead.Number(config, p)!.Value,
                "X-RateLimit-Limit-" + RateLimitPeriods.Title(p), "X-RateLimit-Remaining-" + RateLimitPeriods.Title(p)))];
        _limitBy = ConfigRead.String(config, "limit_by") ?? "consumer";
        _headerName = ConfigRead.String(config, "header_name");
        _path = ConfigRead.String(config, "path");
        _hideHeaders = ConfigRead.Bool(config, "hide_client_headers");
        _errorCode = (int)(ConfigRead.Long(config, "error_code") ?? 429);
        _errorMessage = ConfigRead.String(config, "error_message") ?? "API rate limit exceeded";
    }

    public PeriodLimit[] Limits { get; }

    /// <summary>Kong's <c>get_identifier</c>: who is counted; the client address whenever the chosen identity is
    /// missing (no consumer or credential, no service, no header, or a path other than <c>config.path</c>).</summary>
    public string Identifier(Kong kong) => _limitBy switch
    {
        // Kong: the consumer's id, else the credential's (a credential without a consumer), else the address.
        "consumer" => kong.Consumer?.Id.ToString() ?? kong.CredentialIdentifier ?? kong.ClientIp,
        "credential" => kong.CredentialIdentifier ?? kong.ClientIp,
        "service" => kong.Service?.Id.ToString() ?? kong.ClientIp,
        "header" => (_headerName is null ? null : kong.Request.Header(_headerName)) ?? kong.ClientIp,
        // Kong: only requests whose path is exactly config.path share one counter; any other path counts per address.
        "path" => _path is not null && string.Equals(kong.Request.Path, _path, StringComparison.Ordinal) ? _path : kong.ClientIp,
        _ => kong.ClientIp,
    };

    /// <summary>Sets the headers from <paramref name="used"/> (counts after this request, or before it when
    /// <paramref name="exceeded"/>) and exits with the error when a limit was already reached.</summary>
    public PhaseOutcome Answer(Kong kong, DateTimeOffset now, ReadOnlySpan<long> used, bool exceeded)
    {
        long bestRemaining = long.MaxValue, bestLimit = 0, bestReset = 0;
        for (var i = 0; i < Limits.Length; i++)
        {
            var (period, limit, limitHeader, remainingHeader) = Limits[i];
            var (_, end) = RateLimitPeriods.Window(period, now);
            var remaining = Math.Max(0, limit - used[i]);
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
        if (!exceeded) return PhaseOutcome.Continue;
        kong.Response.SetHeader("Retry-After", Num(bestReset), deferred: true);
        return kong.Response.Exit(_errorCode, _errorMessage);
    }

    private static string Num(long n) => n.ToString(CultureInfo.InvariantCulture);
}

/// <summary>One configured period: its limit and its pre-built header names.</summary>
internal readonly record struct PeriodLimit(string Period, long Limit, string LimitHeader, string RemainingHeader);
