using System.Text.Json.Nodes;
using Gatehouse.Entities;
using Gatehouse.Proxy.Pipeline;

namespace Gatehouse.Plugins.Bundled.Transformers;

/// <summary>Kong's request-transformer (priority 801): headers, query string, JSON and form-urlencoded bodies
/// (<see cref="RequestBodyTransform"/>), and <c>http_method</c>.</summary>
public sealed class RequestTransformerPlugin : GatehousePlugin
{
    public override string Name => "request-transformer";
    public override int Priority => 801;
    public override IReadOnlyList<FieldDefinition> ConfigFields { get; } =
    [
        PluginFields.String("http_method") with { Match = PatternRule.Of("^[A-Z]+$", "invalid value: %s") },
        .. TransformSpec.Actions.Select(a => TransformSpec.ActionField(a, "body", "headers", "querystring")),
    ];

    public override PluginHandler Create(JsonObject config, PluginBuildContext context) => new Handler(config);

    private sealed class Handler(JsonObject config) : PluginHandler
    {
        private readonly string? _method = ConfigRead.String(config, "http_method");
        private readonly TransformSpec _headers = TransformSpec.Read(config, "headers");
        private readonly TransformSpec _query = TransformSpec.Read(config, "querystring");
        private readonly TransformSpec _body = TransformSpec.Read(config, "body");

        public override ValueTask<PhaseOutcome> AccessAsync(Kong kong)
        {
            var request = kong.Context.HttpContext.Request;
            if (_method is not null) request.Method = _method;
            HeaderTransform.Apply(_headers, request.Headers);
            if (!_query.IsEmpty) request.QueryString = HeaderTransform.Apply(_query, request.Query);
            return _body.IsEmpty ? ValueTask.FromResult(PhaseOutcome.Continue) : TransformBodyAsync(kong);
        }

        private async ValueTask<PhaseOutcome> TransformBodyAsync(Kong kong)
        {
            var http = kong.Context.HttpContext;
            await RequestBodyTransform.ApplyAsync(_body, http.Request, http.RequestAborted);
            return PhaseOutcome.Continue;
        }
    }
}
