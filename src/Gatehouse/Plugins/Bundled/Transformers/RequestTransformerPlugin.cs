using System.Collections.Frozen;
using System.Text.Json.Nodes;
using Gatehouse.Entities;
using Gatehouse.Plugins.Bundled.Transformers.Templates;
using Gatehouse.Proxy.Pipeline;
using Microsoft.AspNetCore.Http;
using Gatehouse.Plugins.Bodies;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace Gatehouse.Plugins.Bundled.Transformers;

/// <summary>Kong's request-transformer (priority 801): <c>replace.uri</c>, <c>http_method</c> (to GET/HEAD/TRACE: a form
/// body's arguments join the query string), headers, query string,
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

        public override async ValueTask<PhaseOutcome> AccessAsync(Kong kong)
        {
            var env = _templates.Count == 0 ? null : new TemplateEnvironment(kong, _readsHeaders, _readsQuery);
            var request = kong.Context.HttpContext.Request;
            try
            {
                if (_uri is not null)
                {
                    var path = Render(_uri, env);
                    if (!path.StartsWith('/')) throw new TemplateRenderException("path must start with /") { Template = _uri };
                    kong.Context.UpstreamPath = Routing.UriNormalizer.Escape(path); // kong.service.request.set_path escapes
                }
                if (_method is not null)
                {
                    request.Method = _method;
                    if (_method is "GET" or "HEAD" or "TRACE") await FormIntoQueryAsync(kong);
                }
                HeaderTransform.Apply(Render(_headers, env), request.Headers);
                if (!_body.IsEmpty && RequestBodyTransform.Applies(request))
                    await RequestBodyTransform.ApplyAsync(Render(_body, env), request, kong.Context.HttpContext.RequestAborted);
                if (!_query.IsEmpty) request.QueryString = HeaderTransform.Apply(Render(_query, env), request.Query);
                return PhaseOutcome.Continue;
            }
            catch (TemplateRenderException e)
            {
                LogRenderFailure(_logger, e.Template ?? "", e.Message);
                return kong.Response.Exit(500, "An unexpected error occurred");
            }
        }

        /// <summary>Kong: a method changed to GET, HEAD or TRACE carries a form body's arguments into the query string
        /// (appended to arguments of the same name); the body itself is still sent.</summary>
        private static async ValueTask FormIntoQueryAsync(Kong kong)
        {
            var request = kong.Context.HttpContext.Request;
            if (request.ContentType?.Contains("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase) != true) return;
            if (await kong.Request.RawBodyAsync() is not { Length: > 0 } raw) return;
            var form = FormUrlEncoded.Grouped(FormUrlEncoded.Parse(raw));
            if (form.Count == 0) return;
            var query = request.Query.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
            foreach (var (name, list) in form)
            {
                var values = new StringValues([.. list]);
                query[name] = query.TryGetValue(name, out var existing) ? StringValues.Concat(existing, values) : values;
            }
            // Encoded by the form decoder's inverse, so bytes that are not UTF-8 reach the upstream as sent.
            request.QueryString = new QueryString("?" + string.Join('&', query.SelectMany(p => p.Value.Select(v =>
                FormUrlEncoded.Encode(p.Key) + "=" + FormUrlEncoded.Encode(v ?? "")))));
        }

        private string Render(string value, TemplateEnvironment? env) =>
            env is not null && _templates.TryGetValue(value, out var template) ? template.Render(env) : value;

        private TransformSpec Render(TransformSpec spec, TemplateEnvironment? env) =>
            env is null || spec.IsEmpty ? spec : spec.Render(v => Render(v, env));
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "[request-transformer] failed to render the template {Template}, error:{Reason}")]
    private static partial void LogRenderFailure(ILogger logger, string template, string reason);
}
