using System.Text.Json.Nodes;
using Gatehouse.Entities;
using Gatehouse.Proxy.Pipeline;

namespace Gatehouse.Plugins.Bundled.Acl;

/// <summary>Kong's acl (priority 950): allow or deny consumer groups; needs an auth plugin before it.</summary>
public sealed class AclPlugin : GatehousePlugin
{
    public override string Name => "acl";
    public override int Priority => 950;
    public override IReadOnlyList<FieldDefinition> ConfigFields { get; } =
    [
        PluginFields.Strings("allow"),
        PluginFields.Strings("deny"),
        PluginFields.Bool("hide_groups_header", false),
        PluginFields.Bool("always_use_authenticated_groups", false),
        PluginFields.Bool("include_consumer_groups", false),
    ];
    public override IReadOnlyList<EntityCheck> ConfigChecks { get; } = [new OnlyOneOfCheck(["allow", "deny"])];

    public override PluginHandler Create(JsonObject config, PluginBuildContext context) => new Handler(config, context.Consumers);

    private sealed class Handler(JsonObject config, ConsumerIndex consumers) : PluginHandler
    {
        private readonly HashSet<string> _allow = [.. ConfigRead.Strings(config, "allow")];
        private readonly HashSet<string> _deny = [.. ConfigRead.Strings(config, "deny")];
        private readonly bool _hideGroups = ConfigRead.Bool(config, "hide_groups_header");

        public override ValueTask<PhaseOutcome> AccessAsync(Kong kong)
        {
            if (kong.Consumer is not { } consumer)
                return ValueTask.FromResult(kong.Response.Exit(401, "Unauthorized"));
            var groups = consumers.GroupsOf(consumer.Id);
            var blocked = _allow.Count > 0 ? !groups.Any(_allow.Contains) : groups.Any(_deny.Contains);
            if (blocked) return ValueTask.FromResult(kong.Response.Exit(403, "You cannot consume this service"));
            if (!_hideGroups && groups.Count > 0) kong.Request.SetHeader("X-Consumer-Groups", string.Join(", ", groups));
            return ValueTask.FromResult(PhaseOutcome.Continue);
        }
    }
}
