using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Entities;
using Gatehouse.Proxy.Pipeline;

namespace Gatehouse.Plugins.Bundled.RequestTermination;

/// <summary>Kong's request-termination (priority 2): answers with a fixed status and message or body, or echoes
/// the request back (<c>echo</c>); with <c>trigger</c>, only when that header or query argument is present.</summary>
public sealed class RequestTerminationPlugin : GatehousePlugin
{
    public override string Name => "request-termination";
    public override int Priority => 2;
    public override IReadOnlyList<FieldDefinition> ConfigFields { get; } =
    [
        PluginFields.Integer("status_code", 503) with { Between = (100, 599) },
        PluginFields.String("message"),
        PluginFields.String("content_type"),
        PluginFields.String("body"),
        PluginFields.Bool("echo", false),
        PluginFields.String("trigger"),
    ];
    public override IReadOnlyList<EntityCheck> ConfigChecks { get; } =
    [
        new CustomEntityCheck(["message", "body", "content_type"], c =>
            c["message"] is not null && (c["body"] is not null || c["content_type"] is not null)
                ? "message cannot be used with content_type or body"
                : c["content_type"] is not null && c["body"] is null ? "content_type requires a body" : null),
    ];

    public override PluginHandler Create(JsonObject config, PluginBuildContext context) => new Handler(config);

    private sealed class Handler(JsonObject config) : PluginHandler
    {
        private readonly int _status = (int)(ConfigRead.Long(config, "status_code") ?? 503);
        private readonly string? _message = ConfigRead.String(config, "message");
        private readonly string? _body = ConfigRead.String(config, "body");
        private readonly string _contentType = ConfigRead.String(config, "content_type") ?? "application/json; charset=utf-8";
        private readonly bool _echo = ConfigRead.Bool(config, "echo");
        private readonly string? _trigger = ConfigRead.String(config, "trigger");

        public override async ValueTask<PhaseOutcome> AccessAsync(Kong kong)
        {
            if (_trigger is not null && kong.Request.Header(_trigger) is null && kong.Request.QueryArg(_trigger) is null)
                return PhaseOutcome.Continue;
            if (_echo) return kong.Response.Exit(Json(_status, await EchoAsync(kong)));
            if (_body is not null)
                return kong.Response.Exit(new LocalResponse(_status, Encoding.UTF8.GetBytes(_body), [new("Content-Type", _contentType)]));
            return _message is not null ? kong.Response.Exit(_status, _message) : kong.Response.Exit(_status);
        }

        private async Task<JsonObject> EchoAsync(Kong kong)
        {
            var request = kong.Context.HttpContext.Request;
            using var reader = new StreamReader(request.Body, Encoding.UTF8);
            var raw = await reader.ReadToEndAsync(kong.Context.HttpContext.RequestAborted);
            var headers = new JsonObject();
            foreach (var (name, values) in request.Headers) headers[name.ToLowerInvariant()] = values.Count == 1 ? values[0] : new JsonArray([.. values.Select(v => (JsonNode?)v)]);
            var query = new JsonObject();
            foreach (var (name, values) in request.Query) query[name] = values.Count == 1 ? values[0] : new JsonArray([.. values.Select(v => (JsonNode?)v)]);
            JsonNode? body = null;
            try { if (raw.Length > 0 && request.ContentType?.Contains("json", StringComparison.OrdinalIgnoreCase) == true) body = JsonNode.Parse(raw); }
            catch (System.Text.Json.JsonException) { body = null; }
            return new JsonObject
            {
                ["message"] = _message,
                ["matched_route"] = kong.Route is { } r ? new JsonObject { ["id"] = r.Id.ToString(), ["name"] = r.Name } : null,
                ["matched_service"] = kong.Service is { } s ? new JsonObject { ["id"] = s.Id.ToString(), ["name"] = s.Name } : null,
                ["request"] = new JsonObject
                {
                    ["scheme"] = kong.Request.Scheme, ["host"] = kong.Request.Host, ["port"] = kong.Request.Port,
                    ["method"] = kong.Request.Method, ["path"] = kong.Request.Path,
                    ["headers"] = headers, ["query"] = query, ["body"] = body, ["raw_body"] = raw,
                },
            };
        }

        private static LocalResponse Json(int status, JsonObject body) =>
            new(status, Encoding.UTF8.GetBytes(body.ToJsonString()), [new("Content-Type", "application/json; charset=utf-8")]);
    }
}
