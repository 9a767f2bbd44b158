using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Gatehouse.Entities;
using Gatehouse.Proxy.Pipeline;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Plugins.Bundled.Cors;

/// <summary>Kong's cors (priority 2000): answers preflight requests itself (unless <c>preflight_continue</c>)
/// and adds the Access-Control-* headers to every response whose Origin is allowed.</summary>
public sealed class CorsPlugin : GatehousePlugin
{
    private static readonly string[] AllMethods = ["GET", "HEAD", "PUT", "PATCH", "POST", "DELETE", "OPTIONS", "TRACE", "CONNECT"];

    public override string Name => "cors";
    public override int Priority => 2000;
    public override IReadOnlyList<string> Protocols { get; } = ["http", "https"];
    public override IReadOnlyList<FieldDefinition> ConfigFields { get; } =
    [
        PluginFields.Strings("origins"),
        PluginFields.Strings("headers"),
        PluginFields.Strings("exposed_headers"),
        PluginFields.Strings("methods", AllMethods) with { Elements = new FieldDefinition("method", FieldType.String) { OneOf = AllMethods } },
        PluginFields.Integer("max_age"),
        PluginFields.Bool("credentials", false),
        PluginFields.Bool("private_network", false),
        PluginFields.Bool("preflight_continue", false),
    ];

    public override PluginHandler Create(JsonObject config, PluginBuildContext context) => new Handler(config);

    private sealed class Handler(JsonObject config) : PluginHandler
    {
        private readonly IReadOnlyList<string> _origins = ConfigRead.Strings(config, "origins");
        private readonly string? _headers = Join(ConfigRead.Strings(config, "headers"));
        private readonly string? _exposed = Join(ConfigRead.Strings(config, "exposed_headers"));
        private readonly string _methods = string.Join(",", ConfigRead.Strings(config, "methods"));
        private readonly long? _maxAge = ConfigRead.Long(config, "max_age");
        private readonly bool _credentials = ConfigRead.Bool(config, "credentials");
        private readonly bool _preflightContinue = ConfigRead.Bool(config, "preflight_continue");
        private readonly bool _privateNetwork = ConfigRead.Bool(config, "private_network");

        /// <summary>Kong: OPTIONS with Origin and Access-Control-Request-Method.</summary>
        private static bool IsPreflight(Kong kong) => HttpMethods.IsOptions(kong.Request.Method)
            && kong.Request.Header("Origin") is not null && kong.Request.Header("Access-Control-Request-Method") is not null;

        public override ValueTask<PhaseOutcome> AccessAsync(Kong kong)
        {
            if (!IsPreflight(kong) || _preflightContinue) return ValueTask.FromResult(PhaseOutcome.Continue);
            var headers = new List<KeyValuePair<string, string>>();
            AddOrigin(kong, headers);
            headers.Add(new("Access-Control-Allow-Methods", _methods));
            if ((_headers ?? kong.Request.Header("Access-Control-Request-Headers")) is { Length: > 0 } allow)
                headers.Add(new("Access-Control-Allow-Headers", allow));
            if (_maxAge is { } age) headers.Add(new("Access-Control-Max-Age", age.ToString(CultureInfo.InvariantCulture)));
            // Private Network Access (Kong 3.5+): only when the browser asks for it.
            if (_privateNetwork && kong.Request.Header("Access-Control-Request-Private-Network") == "true")
                headers.Add(new("Access-Control-Allow-Private-Network", "true"));
            return ValueTask.FromResult(kong.Response.Exit(new LocalResponse(200, default, headers)));
        }

        public override ValueTask HeaderFilterAsync(Kong kong)
        {
            // Kong adds nothing to a preflight's response: answered above, or left to the upstream (preflight_continue).
            if (IsPreflight(kong)) return ValueTask.CompletedTask;
            var headers = new List<KeyValuePair<string, string>>();
            AddOrigin(kong, headers);
            if (_exposed is not null) headers.Add(new("Access-Control-Expose-Headers", _exposed));
            foreach (var (name, value) in headers) kong.Response.SetHeader(name, value, deferred: false);
            return ValueTask.CompletedTask;
        }

        private void AddOrigin(Kong kong, List<KeyValuePair<string, string>> headers)
        {
            var origin = kong.Request.Header("Origin");
            if (_origins.Count == 0 || _origins.Contains("*"))
            {
                // with credentials, "*" is not allowed by browsers: Kong reflects the request's Origin then
                headers.Add(new("Access-Control-Allow-Origin", _credentials && origin is not null ? origin : "*"));
                if (_credentials && origin is not null) headers.Add(new("Vary", "Origin"));
            }
            else
            {
                headers.Add(new("Vary", "Origin"));
                if (origin is not null && _origins.Any(o => Matches(o, origin))) headers.Add(new("Access-Control-Allow-Origin", origin));
            }
            if (_credentials) headers.Add(new("Access-Control-Allow-Credentials", "true"));
        }

        private static bool Matches(string allowed, string origin)
        {
            if (string.Equals(allowed, origin, StringComparison.OrdinalIgnoreCase)) return true;
            try { return Regex.IsMatch(origin, "^(?:" + allowed + ")$", RegexOptions.NonBacktracking | RegexOptions.IgnoreCase); }
            catch (ArgumentException) { return false; } // not a valid regex: exact comparison only, as Kong
        }

        private static string? Join(IReadOnlyList<string> values) => values.Count > 0 ? string.Join(",", values) : null;
    }
}
