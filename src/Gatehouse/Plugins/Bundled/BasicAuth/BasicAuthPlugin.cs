using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Entities;
using Gatehouse.Entities.Schemas;
using Gatehouse.Proxy.Pipeline;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Plugins.Bundled.BasicAuth;

/// <summary>Kong's basic-auth (priority 1100): <c>Authorization: Basic</c> (or Proxy-Authorization) against
/// credentials stored as SHA1(password .. consumer_id).</summary>
public sealed class BasicAuthPlugin : GatehousePlugin
{
    public override string Name => "basic-auth";
    public override int Priority => 1100;
    public override IReadOnlyList<FieldDefinition> ConfigFields { get; } =
    [
        PluginFields.String("anonymous"),
        PluginFields.Bool("hide_credentials", false),
        PluginFields.String("realm", "service"),
    ];

    public override PluginHandler Create(JsonObject config, PluginBuildContext context) => new Handler(config, context.Consumers);

    private sealed class Handler(JsonObject config, ConsumerIndex consumers) : PluginHandler
    {
        private readonly string? _anonymous = ConfigRead.String(config, "anonymous");
        private readonly bool _hide = ConfigRead.Bool(config, "hide_credentials");
        private readonly KeyValuePair<string, string>[] _challenge =
            [new("WWW-Authenticate", $"Basic realm=\"{ConfigRead.String(config, "realm") ?? "service"}\"")];

        public override ValueTask<PhaseOutcome> AccessAsync(Kong kong) => ValueTask.FromResult(Access(kong));

        private PhaseOutcome Access(Kong kong)
        {
            if (!string.IsNullOrEmpty(_anonymous) && kong.CredentialIdentifier is not null) return PhaseOutcome.Continue;
            var header = "Authorization";
            var value = kong.Request.Header(header);
            if (value is null) { header = "Proxy-Authorization"; value = kong.Request.Header(header); }
            if (value is null) return AuthCommon.Fail(kong, consumers, _anonymous, 401, "Unauthorized", _challenge);
            if (!TryDecode(value, out var username, out var password)
                || !consumers.BasicAuth.TryGetValue(username, out var credential)
                || !FixedEquals(credential.PasswordHash, BasicAuthCredentialEntity.Hash(password, credential.ConsumerId))
                || consumers.Consumer(credential.ConsumerId) is not { } consumer)
                return AuthCommon.Fail(kong, consumers, _anonymous, 401, AuthCommon.InvalidCredentials, _challenge);
            if (_hide) kong.Request.SetHeader(header, null);
            return AuthCommon.Authenticated(kong, consumer, credential.Username);
        }

        private static bool TryDecode(string header, out string username, out string password)
        {
            username = password = "";
            if (!header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase)) return false;
            try
            {
                var text = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..].Trim()));
                var colon = text.IndexOf(':', StringComparison.Ordinal);
                if (colon < 0) return false;
                (username, password) = (text[..colon], text[(colon + 1)..]);
                return true;
            }
            catch (FormatException) { return false; }
        }

        private static bool FixedEquals(string a, string b) =>
            CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(a), Encoding.ASCII.GetBytes(b));
    }
}
