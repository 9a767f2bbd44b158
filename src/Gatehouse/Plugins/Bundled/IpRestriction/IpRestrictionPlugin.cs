using System.Net;
using System.Text.Json.Nodes;
using Gatehouse.Entities;
using Gatehouse.Proxy.Pipeline;

namespace Gatehouse.Plugins.Bundled.IpRestriction;

/// <summary>Kong's ip-restriction (priority 990): allow or deny client addresses and CIDR ranges.</summary>
public sealed class IpRestrictionPlugin : GatehousePlugin
{
    public override string Name => "ip-restriction";
    public override int Priority => 990;
    private static FieldDefinition Ips(string name) => new(name, FieldType.Array)
    {
        Elements = new FieldDefinition(name, FieldType.String) { Custom = v => HostValidation.ValidateIpOrCidr(v.GetValue<string>()) },
    };
    public override IReadOnlyList<FieldDefinition> ConfigFields { get; } =
    [
        Ips("allow"),
        Ips("deny"),
        PluginFields.Integer("status"),
        PluginFields.String("message"),
    ];
    public override IReadOnlyList<EntityCheck> ConfigChecks { get; } = [new AtLeastOneOfCheck(["allow", "deny"])];

    public override PluginHandler Create(JsonObject config, PluginBuildContext context) => new Handler(config);

    private sealed class Handler(JsonObject config) : PluginHandler
    {
        private readonly IPNetwork[] _allow = [.. ConfigRead.Strings(config, "allow").Select(Parse)];
        private readonly IPNetwork[] _deny = [.. ConfigRead.Strings(config, "deny").Select(Parse)];
        private readonly int _status = (int)(ConfigRead.Long(config, "status") ?? 403);
        private readonly string _message = ConfigRead.String(config, "message") ?? "Your IP address is not allowed";

        public override ValueTask<PhaseOutcome> AccessAsync(Kong kong)
        {
            var ip = kong.Context.HttpContext.Connection.RemoteIpAddress;
            if (ip is { IsIPv4MappedToIPv6: true }) ip = ip.MapToIPv4();
            var blocked = ip is null
                || _deny.Any(n => n.Contains(ip))
                || (_allow.Length > 0 && !_allow.Any(n => n.Contains(ip)));
            return ValueTask.FromResult(blocked ? kong.Response.Exit(_status, _message) : PhaseOutcome.Continue);
        }

        private static IPNetwork Parse(string text) =>
            text.Contains('/', StringComparison.Ordinal) ? IPNetwork.Parse(text) : new IPNetwork(IPAddress.Parse(text), IPAddress.Parse(text).AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128);
    }
}
