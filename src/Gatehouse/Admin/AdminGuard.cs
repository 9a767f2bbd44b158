using System.Security.Cryptography;
using System.Text;
using Gatehouse.Config;
using Gatehouse.Proxy;
using ProxyWasm.Runtime;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace Gatehouse.Admin;

/// <summary>
/// What every request to the Admin API and status listeners passes before an endpoint, in order:
/// <list type="number">
/// <item>Host: one the listener answers to (<see cref="HostAllowList"/>), else 421: defeats DNS rebinding.</item>
/// <item>Origin (Admin API): a browser's cross-site request is answered only for admin_gui_url/admin_gui_origin
/// origins and the Gatehouse Manager's own (<see cref="ManagerBinding"/>); any other foreign origin gets 403 before anything runs, so a page cannot even send a form POST.</item>
/// <item>CORS (Admin API): for an allowed origin, Kong's headers (origin echoed, credentials) plus Vary: Origin; its
/// preflight is answered here (204), before the token, as browsers send preflights without credentials.</item>
/// <item>admin_token (Admin API, when set): <c>Kong-Admin-Token</c> or <c>Authorization: Bearer</c>, compared in
/// constant time, else 401.</item>
/// </list>
/// </summary>
public sealed partial class AdminGuard
{
    internal const string TokenHeader = "Kong-Admin-Token";
    private const string PreflightMethods = "GET, HEAD, OPTIONS, POST, PUT, PATCH, DELETE";

    private readonly HostAllowList _adminHosts;
    private readonly HostAllowList _statusHosts;
    private readonly HashSet<string> _origins;
    private readonly byte[]? _tokenHash;
    private readonly ManagerBinding _manager;
    private readonly LogRateLimiter _limiter;
    private readonly ILogger<AdminGuard> _logger;

    public AdminGuard(GatehouseOptions options, LogRateLimiter limiter, ILogger<AdminGuard> logger, ManagerBinding manager)
    {
        ArgumentNullException.ThrowIfNull(options);
        _manager = manager ?? throw new ArgumentNullException(nameof(manager));
        _limiter = limiter ?? throw new ArgumentNullException(nameof(limiter));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        _adminHosts = new HostAllowList(options.AdminListen, options);
        _statusHosts = new HostAllowList(options.StatusListen, options);
        // Kong: admin_gui_origin is derived from admin_gui_url (scheme://authority of each)
        _origins = new HashSet<string>(options.AdminGuiOrigin.Concat(options.AdminGuiUrl.Select(AdminAccess.Origin)), StringComparer.Ordinal);
        _tokenHash = options.AdminToken is { } token ? SHA256.HashData(Encoding.UTF8.GetBytes(token)) : null;
    }

    /// <summary>True when the request goes on to its endpoint; false when this guard has answered it.</summary>
    public async ValueTask<bool> AdmitAsync(HttpContext http, ListenerKind kind)
    {
        ArgumentNullException.ThrowIfNull(http);
        var request = http.Request;
        var hostAllowed = kind switch
        {
            ListenerKind.Status => _statusHosts.IsAllowed(request.Host),
            ListenerKind.Manager => _manager.AllowsHost(request.Host),
            _ => _adminHosts.IsAllowed(request.Host),
        };
        if (!hostAllowed)
            return await RefuseAsync(http, StatusCodes.Status421MisdirectedRequest,
                "Host not allowed (see admin_allowed_hosts)", "host");
        // the Manager's static pages hold no data: the Admin API they call checks Origin and admin_token
        if (kind is ListenerKind.Status or ListenerKind.Manager) return true;

        // with CORS on, every answer depends on Origin (caches must not serve one origin's answer to another)
        if (_origins.Count > 0 || _manager.Enabled) http.Response.Headers.Vary = "Origin";
        var origin = request.Headers.Origin;
        if (!StringValues.IsNullOrEmpty(origin))
        {
            var normalized = origin.Count == 1 ? AdminAccess.TryParseOrigin(origin[0]) : null;
            if (normalized is not null && (_origins.Contains(normalized) || _manager.AllowsOrigin(normalized)))
            {
                var headers = http.Response.Headers;
                headers.AccessControlAllowOrigin = origin[0];
                headers.AccessControlAllowCredentials = "true";
                if (HttpMethods.IsOptions(request.Method) && request.Headers.ContainsKey("Access-Control-Request-Method"))
                {
                    headers.AccessControlAllowMethods = PreflightMethods;
                    if (request.Headers.AccessControlRequestHeaders is { Count: > 0 } asked)
                    {
                        headers.AccessControlAllowHeaders = asked;
                        headers.Vary = "Origin, Access-Control-Request-Headers";
                    }
                    http.Response.StatusCode = StatusCodes.Status204NoContent;
                    return false;
                }
            }
            else if (normalized is null || normalized != SameOrigin(request))
                return await RefuseAsync(http, StatusCodes.Status403Forbidden,
                    "Origin not allowed (see admin_gui_url)", "origin");
        }

        if (_tokenHash is null) return true;
        if (PresentedToken(request) is not { } presented)
            return await RefuseAsync(http, StatusCodes.Status401Unauthorized, "No admin token found in request", "token");
        // hashing first makes the comparison independent of the presented token's length too
        if (!CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), _tokenHash))
            return await RefuseAsync(http, StatusCodes.Status401Unauthorized, "Invalid admin token", "token");
        return true;
    }

    private static string? PresentedToken(HttpRequest request)
    {
        if (request.Headers.TryGetValue(TokenHeader, out var token)) return token.Count == 1 ? token[0] : null;
        var authorization = request.Headers.Authorization;
        const string Bearer = "Bearer ";
        return authorization.Count == 1 && authorization[0] is { } value && value.StartsWith(Bearer, StringComparison.OrdinalIgnoreCase)
            ? value[Bearer.Length..].Trim()
            : null;
    }

    /// <summary>The origin of the request itself (a page served by this listener calling it is not cross-site).</summary>
    private static string? SameOrigin(HttpRequest request) =>
        request.Host.HasValue ? AdminAccess.TryParseOrigin(request.Scheme + "://" + request.Host.Value) : null;

    private async ValueTask<bool> RefuseAsync(HttpContext http, int status, string message, string reason)
    {
        if (_limiter.Admit(_logger, LogLevel.Debug, 3001))
            Refused(_logger, status, reason, http.Request.Method, http.Request.Path, http.Request.Host.Value ?? "", http.Request.Headers.Origin.ToString());
        if (status == StatusCodes.Status401Unauthorized) http.Response.Headers.WWWAuthenticate = "Bearer";
        await AdminResponses.Message(message, status).ExecuteAsync(http);
        return false;
    }

    [LoggerMessage(EventId = 3001, Level = LogLevel.Debug, Message = "admin request refused with {Status} ({Reason}): {Method} {Path}, Host '{Host}', Origin '{Origin}'")]
    private static partial void Refused(ILogger logger, int status, string reason, string method, string path, string host, string origin);
}
