using System.Text.Json.Nodes;
using Gatehouse.Entities;

namespace Gatehouse.Plugins.Bundled.Transformers;

/// <summary>Kong's response-transformer (priority 800): response headers. JSON body transformations are accepted
/// in config but not applied yet.</summary>
public sealed class ResponseTransformerPlugin : GatehousePlugin
{
    public override string Name => "response-transformer";
    public override int Priority => 800;
    public override IReadOnlyList<FieldDefinition> ConfigFields { get; } =
        [.. TransformSpec.Actions.Select(a => TransformSpec.ActionField(a, "json", "headers"))];

    public override PluginHandler Create(JsonObject config, PluginBuildContext context) => new Handler(config);

    private sealed class Handler(JsonObject config) : PluginHandler
    {
        private readonly TransformSpec _headers = TransformSpec.Read(config, "headers");

        public override ValueTask HeaderFilterAsync(Kong kong)
        {
            HeaderTransform.Apply(_headers, kong.Response.Headers);
            return ValueTask.CompletedTask;
        }
    }
}
