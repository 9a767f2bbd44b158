using System.Text.Json.Nodes;
using Gatehouse.Entities;
using Gatehouse.Plugins.Bodies;
using Gatehouse.Proxy.Pipeline;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Gatehouse.Plugins.Bundled.KeyAuth;

/// <summary>Kong's key-auth (priority 1250): an API key in a header, the query or (key_in_body) a JSON, form or
/// multipart body identifies the consumer; a repeated key is "Duplicate API key found".</summary>
public sealed class KeyAuthPlugin : GatehousePlugin
{
    public override string Name => "key-auth";
    public override int Priority => 1250;
    public override IReadOnlyList<FieldDefinition> ConfigFields { get; } =
    [
        PluginFields.Strings("key_names", "apikey") with { Required = true, LenMin = 1 },
        PluginFields.Bool("hide_credentials", false),
        PluginFields.String("anonymous"),
        PluginFields.Bool("key_in_header", true),
        PluginFields.Bool("key_in_query", true),
        PluginFields.Bool("key_in_body", false),
        PluginFields.Bool("run_on_preflight", true),
        PluginFields.String("realm"),
    ];

    public override PluginHandler Create(JsonObject config, PluginBuildContext context) => new Handler(config, context.Consumers);

    private sealed class Handler(JsonObject config, ConsumerIndex consumers) : PluginHandler
    {
        private readonly IReadOnlyList<string> _keyNames = ConfigRead.Strings(config, "key_names");
        private readonly bool _hide = ConfigRead.Bool(config, "hide_credentials");
        private readonly string? _anonymous = ConfigRead.String(config, "anonymous");
        private readonly bool _inHeader = ConfigRead.Bool(config, "key_in_header", true);
        private readonly bool _inQuery = ConfigRead.Bool(config, "key_in_query", true);
        private readonly bool _onPreflight = ConfigRead.Bool(config, "run_on_preflight", true);
        private readonly KeyValuePair<string, string>[] _challenge =
            [new("WWW-Authenticate", $"Key realm=\"{ConfigRead.String(config, "realm") ?? "kong"}\"")];

        private readonly bool _inBody = ConfigRead.Bool(config, "key_in_body");

        public override async ValueTask<PhaseOutcome> AccessAsync(Kong kong)
        {
            if (!_onPreflight && HttpMethods.IsOptions(kong.Request.Method)) return PhaseOutcome.Continue;
            if (!string.IsNullOrEmpty(_anonymous) && kong.CredentialIdentifier is not null) return PhaseOutcome.Continue;
            string? key = null;
            RequestBody? body = null;
            var bodyRead = false;
            foreach (var name in _keyNames)
            {
                var found = BodyField.Absent;
                string? value = null;
                if (_inHeader) found = Lookup(kong.Request.Headers, name, out value);
                if (found == BodyField.Absent && _inQuery) found = Lookup(kong.Request.Query, name, out value);
                if (found == BodyField.Absent && _inBody)
                {
                    if (!bodyRead) (body, bodyRead) = (await kong.Request.BodyAsync(), true);
                    if (body is not null) found = body.Field(name, out value);
                }
                if (found == BodyField.Many)
                    return AuthCommon.Fail(kong, consumers, _anonymous, 401, "Duplicate API key found", _challenge);
                if (found != BodyField.Text) continue;
                key = value;
                if (_hide) await HideAsync(kong, name, body, bodyRead);
                break;
            }
            if (string.IsNullOrEmpty(key))
                return AuthCommon.Fail(kong, consumers, _anonymous, 401, "No API key found in request", _challenge);
            if (!consumers.Keys.TryGetValue(key, out var credential) || consumers.Consumer(credential.ConsumerId) is not { } consumer)
                return AuthCommon.Fail(kong, consumers, _anonymous, 401, AuthCommon.InvalidCredentials, _challenge);
            return AuthCommon.Authenticated(kong, consumer, credential.Id.ToString());
        }

        /// <summary>Kong's hide_credentials: the key name leaves the upstream request's headers and query, and —
        /// with key_in_body — its body (re-encoded with a new Content-Length), wherever the key was found.</summary>
        private async ValueTask HideAsync(Kong kong, string name, RequestBody? body, bool bodyRead)
        {
            kong.Request.SetHeader(name, null);
            if (kong.Request.Query.ContainsKey(name))
                kong.Request.SetQuery(QueryString.Create(kong.Request.Query.Where(p => p.Key != name)));
            if (!_inBody) return;
            if (!bodyRead) body = await kong.Request.BodyAsync();
            if (body is not null && body.Remove(name)) kong.Request.SetRawBody(body.ToBytes());
        }

        private static BodyField Lookup(IEnumerable<KeyValuePair<string, StringValues>> source, string name, out string? value)
        {
            value = null;
            var values = source switch
            {
                IHeaderDictionary h => h.TryGetValue(name, out var v) ? v : StringValues.Empty,
                IQueryCollection q => q.TryGetValue(name, out var v) ? v : StringValues.Empty,
                _ => StringValues.Empty,
            };
            if (values.Count > 1) return BodyField.Many;
            if (values.Count == 0) return BodyField.Absent;
            value = values[0];
            return BodyField.Text;
        }
    }
}
