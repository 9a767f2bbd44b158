using System.Collections.Frozen;
using System.Text.Json.Nodes;
using Gatehouse.Entities;
using Gatehouse.Plugins.Bundled.Transformers.Templates;
using Gatehouse.Proxy.Pipeline;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Plugins.Bundled.Transformers;

/// <summary>Kong's request-transformer (priority 801): <c>replace.uri</c>, <c>http_method</c>, headers, query string,
/// and JSON, form-urlencoded and multipart bodies (<see cref="RequestBodyTransform"/>). Values may hold
/// <c>$(…)</c> templates (<see cref="ValueTemplate"/>), checked when the plugin is written and rendered per request
/// from the request as the plugin found it; a template that fails to render answers 500, as Kong's Lua error does.</summary>
public sealed partial class RequestTransformerPlugin : GatehousePlugin
{
    public override string Name => "request-transformer";
    public override int Priority => 801;
    public override IReadOnlyList<FieldDefinition> ConfigFields { get; } =
    [
        PluginFields.String("http_method") with { Match = PatternRule.Of("^[A-Z]+$", "invalid value: %s") },
        .. TransformSpec.Actions.Select(a => TransformSpec.ActionField(a, templates: true, ["body", "headers", "querystring"],
            a == "replace" ? [PluginFields.String("uri") with { Custom = v => TransformSpec.TemplateError(v.GetValue<string>()) }] : [])),
    ];

    public override PluginHandler Create(JsonObject config, PluginBuildContext context) =>
        new Handler(config, context.Services.Loggers.CreateLogger("Gatehouse.Plugins.RequestTransformer"));

    private sealed class Handler : PluginHandler
    {
        private readonly string? _method;
        private readonly TransformSpec _headers;
        private readonly TransformSpec _query;
        private readonly TransformSpec _body;
        private readonly string? _uri;
        private readonly FrozenDictionary<string, ValueTemplate> _templates;
        private readonly bool _readsHeaders;
        private readonly bool _readsQuery;
        private readonly ILogger _logger;

        public Handler(JsonObject config, ILogger logger)
        {
            _logger = logger;
            _method = ConfigRead.String(config, "http_method");
            _headers = TransformSpec.Read(config, "headers");
            _query = TransformSpec.Read(config, "querystring");
            _body = TransformSpec.Read(config, "body");
            _uri = ConfigRead.Record(config, "replace") is { } replace ? ConfigRead.String(replace, "uri") : null;
            var values = _headers.Values.Concat(_query.Values).Concat(_body.Values).Concat(_uri is null ? [] : [_uri]);
            _templates = values.Distinct(StringComparer.Ordinal)
                .Select(v => (Text: v, Template: ValueTemplate.Parse(v)))
                .Where(t => t.Template.HasExpressions)
                .ToFrozenDictionary(t => t.Text, t => t.Template, StringComparer.Ordinal);
            var roots = _templates.Values.SelectMany(t => t.RootsUsed).ToHashSet(StringComparer.Ordinal);
            _readsHeaders = roots.Contains("headers");
            _readsQuery = roots.Contains("query_params");
        }

        public override ValueTask<PhaseOutcome> AccessAsync(Kong kong)
        {
            var env = _templates.Count == 0 ? null : new TemplateEnvironment(kong, _readsHeaders, _readsQuery);
            var request = kong.Context.HttpContext.Request;
            try
            {
                if (_uri is not null)
                {
                    var path = Render(_uri, env);
                    if (!path.StartsWith('/')) throw new TemplateRenderException("path must start with /") { Template = _uri };
                    kong.Context.UpstreamPath = path;
                }
                if (_method is not null) request.Method = _method;
                HeaderTransform.Apply(Render(_headers, env), request.Headers);
                var body = _body.IsEmpty || !RequestBodyTransform.Applies(request) ? null : Render(_body, env);
                if (!_query.IsEmpty) request.QueryString = HeaderTransform.Apply(Render(_query, env), request.Query);
                return body is null ? ValueTask.FromResult(PhaseOutcome.Continue) : TransformBodyAsync(kong, body);
            }
            catch (TemplateRenderException e)
            {
                LogRenderFailure(_logger, e.Template ?? "", e.Message);
                return ValueTask.FromResult(kong.Response.Exit(500, "An unexpected error occurred"));
            }
        }

        private string Render(string value, TemplateEnvironment? env) =>
            env is not null && _templates.TryGetValue(value, out var template) ? template.Render(env) : value;

        private TransformSpec Render(TransformSpec spec, TemplateEnvironment? env) =>
            env is null || spec.IsEmpty ? spec : spec.Render(v => Render(v, env));

        private static async ValueTask<PhaseOutcome> TransformBodyAsync(Kong kong, TransformSpec body)
        {
            var http = kong.Context.HttpContext;
            await RequestBodyTransform.ApplyAsync(body, http.Request, http.RequestAborted);
            return PhaseOutcome.Continue;
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "[request-transformer] failed to render the template {Template}, error:{Reason}")]
    private static partial void LogRenderFailure(ILogger logger, string template, string reason);
}
