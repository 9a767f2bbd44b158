using System.Text.Json.Nodes;
using Gatehouse.Entities;
using Gatehouse.Proxy.Pipeline;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Plugins.Bundled.KeyAuth;

/// <summary>Kong's key-auth (priority 1250): an API key in a header or the query identifies the consumer.</summary>
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

        public override ValueTask<PhaseOutcome> AccessAsync(Kong kong) =>
            _inBody ? AccessWithBodyAsync(kong) : ValueTask.FromResult(Access(kong, null));

        private async ValueTask<PhaseOutcome> AccessWithBodyAsync(Kong kong) => Access(kong, await kong.Request.BodyFieldsAsync());

        private PhaseOutcome Access(Kong kong, IReadOnlyDictionary<string, string>? body)
        {
            if (!_onPreflight && HttpMethods.IsOptions(kong.Request.Method)) return PhaseOutcome.Continue;
            if (!string.IsNullOrEmpty(_anonymous) && kong.CredentialIdentifier is not null) return PhaseOutcome.Continue;
            string? key = null;
            foreach (var name in _keyNames)
            {
                if (_inHeader && kong.Request.Header(name) is { } h)
                {
                    key = h;
                    if (_hide) kong.Request.SetHeader(name, null);
                    break;
                }
                if (_inQuery && kong.Request.QueryArg(name) is { } q)
                {
                    key = q;
                    if (_hide) kong.Request.SetQuery(QueryString.Create(kong.Request.Query.Where(p => p.Key != name)));
                    break;
                }
                if (body is not null && body.TryGetValue(name, out var b)) { key = b; break; } // hide_credentials: body kept as sent
            }
            if (string.IsNullOrEmpty(key))
                return AuthCommon.Fail(kong, consumers, _anonymous, 401, "No API key found in request", _challenge);
            if (!consumers.Keys.TryGetValue(key, out var credential) || consumers.Consumer(credential.ConsumerId) is not { } consumer)
                return AuthCommon.Fail(kong, consumers, _anonymous, 401, AuthCommon.InvalidCredentials, _challenge);
            return AuthCommon.Authenticated(kong, consumer, credential.Id.ToString());
        }
    }
}
