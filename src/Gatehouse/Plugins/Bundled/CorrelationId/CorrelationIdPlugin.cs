using System.Globalization;
using System.Text.Json.Nodes;
using Gatehouse.Entities;
using Gatehouse.Proxy.Pipeline;

namespace Gatehouse.Plugins.Bundled.CorrelationId;

/// <summary>Kong's correlation-id (priority 100001): ensures a request id header upstream (uuid, uuid#counter or
/// tracker), optionally echoed to the client.</summary>
public sealed class CorrelationIdPlugin : GatehousePlugin
{
    public override string Name => "correlation-id";
    public override int Priority => 100001;
    public override IReadOnlyList<FieldDefinition> ConfigFields { get; } =
    [
        PluginFields.String("header_name", "Kong-Request-ID"),
        PluginFields.String("generator", "uuid#counter") with { OneOf = ["uuid", "uuid#counter", "tracker"] },
        PluginFields.Bool("echo_downstream", false),
    ];

    public override PluginHandler Create(JsonObject config, PluginBuildContext context) => new Handler(config);

    private sealed class Handler(JsonObject config) : PluginHandler
    {
        private const string Key = "correlation-id";
        private readonly string _header = ConfigRead.String(config, "header_name") ?? "Kong-Request-ID";
        private readonly string _generator = ConfigRead.String(config, "generator") ?? "uuid#counter";
        private readonly bool _echo = ConfigRead.Bool(config, "echo_downstream");
        private readonly string _seed = Guid.NewGuid().ToString();
        private long _counter;

        public override ValueTask<PhaseOutcome> AccessAsync(Kong kong)
        {
            var id = kong.Request.Header(_header);
            if (string.IsNullOrEmpty(id))
            {
                id = Generate(kong);
                kong.Request.SetHeader(_header, id);
            }
            kong.Ctx[Key] = id;
            return ValueTask.FromResult(PhaseOutcome.Continue);
        }

        public override ValueTask HeaderFilterAsync(Kong kong)
        {
            if (_echo && kong.Ctx.TryGetValue(Key, out var id) && id is string s) kong.Response.SetHeader(_header, s, deferred: false);
            return ValueTask.CompletedTask;
        }

        private string Generate(Kong kong) => _generator switch
        {
            "uuid" => Guid.NewGuid().ToString(),
            "tracker" => string.Create(CultureInfo.InvariantCulture,
                $"{kong.Context.HttpContext.Connection.LocalIpAddress}-{kong.Context.HttpContext.Connection.LocalPort}-{kong.Context.HttpContext.Connection.Id}-{Interlocked.Increment(ref _counter)}-{kong.Context.HttpContext.TraceIdentifier}"),
            _ => string.Create(CultureInfo.InvariantCulture, $"{_seed}#{Interlocked.Increment(ref _counter)}"),
        };
    }
}
