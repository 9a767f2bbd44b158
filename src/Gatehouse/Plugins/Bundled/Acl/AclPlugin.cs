using System.Text.Json.Nodes;
using Gatehouse.Entities;
using Gatehouse.Proxy.Pipeline;

namespace Gatehouse.Plugins.Bundled.Acl;

/// <summary>
/// Kong's acl (priority 950): allow or deny groups; needs an auth plugin before it. The groups are the consumer's
/// acls, or the request's authenticated groups (<c>kong.ctx.shared.authenticated_groups</c>, a list of strings put
/// there by an auth plugin) when there is no consumer, when the consumer is anonymous (no credential), or always when
/// <c>always_use_authenticated_groups</c> — falling back to the consumer's acls when there are none (Kong 3.9).
/// </summary>
public sealed class AclPlugin : GatehousePlugin
{
    /// <summary>The <c>kong.ctx.shared</c> key Kong's auth plugins use for the groups they authenticated.</summary>
    public const string AuthenticatedGroupsKey = "authenticated_groups";

    public override string Name => "acl";
    public override int Priority => 950;
    public override IReadOnlyList<FieldDefinition> ConfigFields { get; } =
    [
        PluginFields.Strings("allow"),
        PluginFields.Strings("deny"),
        PluginFields.Bool("hide_groups_header", false),
        PluginFields.Bool("always_use_authenticated_groups", false),
    ];
    public override IReadOnlyList<EntityCheck> ConfigChecks { get; } = [new OnlyOneOfCheck(["allow", "deny"])];

    public override PluginHandler Create(JsonObject config, PluginBuildContext context) => new Handler(config, context.Consumers);

    private sealed class Handler(JsonObject config, ConsumerIndex consumers) : PluginHandler
    {
        private readonly HashSet<string> _allow = [.. ConfigRead.Strings(config, "allow")];
        private readonly HashSet<string> _deny = [.. ConfigRead.Strings(config, "deny")];
        private readonly bool _hideGroups = ConfigRead.Bool(config, "hide_groups_header");
        private readonly bool _alwaysUseAuthenticatedGroups = ConfigRead.Bool(config, "always_use_authenticated_groups");

        private bool DenyMode => _deny.Count > 0;

        public override ValueTask<PhaseOutcome> AccessAsync(Kong kong) => ValueTask.FromResult(Access(kong));

        private PhaseOutcome Access(Kong kong)
        {
            var hasCredential = kong.CredentialIdentifier is not null;
            var authenticated = AuthenticatedGroups(kong);
            if (kong.Consumer is not { } consumer)
            {
                if (authenticated is null) return Unidentified(kong, hasCredential);
                return Decide(kong, authenticated, "X-Authenticated-Groups");
            }
            // Kong: the authenticated groups override an anonymous consumer's acls, and any consumer's with the flag.
            if ((!hasCredential || _alwaysUseAuthenticatedGroups) && authenticated is not null)
                return Decide(kong, authenticated, "X-Authenticated-Groups");
            var groups = consumers.GroupsOf(consumer.Id);
            // Kong: a consumer without acls passes a deny list, and an allow list answers as if unidentified.
            if (groups.Count == 0 && !DenyMode) return Unidentified(kong, hasCredential);
            return Decide(kong, groups, "X-Consumer-Groups");
        }

        private static PhaseOutcome Unidentified(Kong kong, bool hasCredential) => hasCredential
            ? kong.Response.Exit(403, "You cannot consume this service")
            : kong.Response.Exit(401, "Unauthorized");

        private PhaseOutcome Decide(Kong kong, IReadOnlyList<string> groups, string header)
        {
            var blocked = DenyMode ? groups.Any(_deny.Contains) : !groups.Any(_allow.Contains);
            if (blocked) return kong.Response.Exit(403, "You cannot consume this service");
            if (!_hideGroups && groups.Count > 0) kong.Request.SetHeader(header, string.Join(", ", groups));
            return PhaseOutcome.Continue;
        }

        /// <summary>Kong reads a table only; anything else is ignored (Kong logs a warning for a non-table).</summary>
        private static IReadOnlyList<string>? AuthenticatedGroups(Kong kong) =>
            kong.Ctx.TryGetValue(AuthenticatedGroupsKey, out var value) && value is not string && value is IEnumerable<string> list
                ? [.. list]
                : null;
    }
}
