using System.Text.Json.Nodes;
using Gatehouse.Entities;
using Gatehouse.Plugins;
using Gatehouse.Plugins.Bundled;
using Gatehouse.Proxy.Pipeline;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Tests.Plugins;

/// <summary>A test plugin (Kong's pre-function in the spec it mirrors): before request-transformer, puts
/// <c>config.value</c> into <c>kong.ctx.shared[config.key]</c>.</summary>
internal sealed class SharedValuePlugin : GatehousePlugin
{
    public override string Name => "shared-value";
    public override int Priority => 1000;
    public override IReadOnlyList<FieldDefinition> ConfigFields { get; } =
        [PluginFields.String("key", required: true), PluginFields.String("value", required: true)];

    /// <summary>Registers the bundled plugins plus this one.</summary>
    public static void Register(IServiceCollection services) =>
        services.AddSingleton(new PluginCatalog([.. BundledPlugins.Create(), new SharedValuePlugin()]));

    public override PluginHandler Create(JsonObject config, PluginBuildContext context) =>
        new Handler(ConfigRead.String(config, "key")!, ConfigRead.String(config, "value")!);

    private sealed class Handler(string key, string value) : PluginHandler
    {
        public override ValueTask<PhaseOutcome> AccessAsync(Kong kong)
        {
            kong.Ctx[key] = value;
            return ValueTask.FromResult(PhaseOutcome.Continue);
        }
    }
}
