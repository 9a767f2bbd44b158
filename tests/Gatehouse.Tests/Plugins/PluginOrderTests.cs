using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Text.Json.Nodes;
using Gatehouse.Entities;
using Gatehouse.Model;
using Gatehouse.Plugins;
using Gatehouse.Proxy.Pipeline;
using Gatehouse.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using static Gatehouse.Tests.Infrastructure.TestConfig;

namespace Gatehouse.Tests.Plugins;

/// <summary>Plugins run in priority order in every phase, whatever the configuration order, through the real proxy.</summary>
public sealed class PluginOrderTests
{
    private sealed class Recorder(string name, int priority, ConcurrentQueue<string> log) : GatehousePlugin
    {
        public override string Name => name;
        public override int Priority => priority;
        public override IReadOnlyList<FieldDefinition> ConfigFields => [];
        public override PluginHandler Create(JsonObject config, PluginBuildContext context) => new Handler(name, log);

        private sealed class Handler(string name, ConcurrentQueue<string> log) : PluginHandler
        {
            public override ValueTask<PhaseOutcome> AccessAsync(Kong kong)
            {
                log.Enqueue($"access:{name}");
                return ValueTask.FromResult(PhaseOutcome.Continue);
            }

            public override ValueTask HeaderFilterAsync(Kong kong)
            {
                log.Enqueue($"header:{name}");
                return ValueTask.CompletedTask;
            }

            public override ValueTask LogAsync(Kong kong)
            {
                log.Enqueue($"log:{name}");
                return ValueTask.CompletedTask;
            }
        }
    }

    [Fact]
    public async Task Every_phase_runs_plugins_by_descending_priority()
    {
        var log = new ConcurrentQueue<string>();
        var catalog = new PluginCatalog([new Recorder("low", 10, log), new Recorder("high", 1000, log), new Recorder("mid", 500, log)]);
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await GatewayFixture.StartAsync(services: s => s.Replace(ServiceDescriptor.Singleton(catalog)));
        var service = Service(upstream);
        var route = Route(service, "r", paths: ["/"]);
        PluginModel Plugin(string name) => new() { Id = Guid.NewGuid(), Name = name, Config = [], RouteId = route.Id };
        gateway.Publish(Of([service], [route]) with { Plugins = [Plugin("mid"), Plugin("low"), Plugin("high")] });

        using var response = await gateway.Client.GetAsync("/x");
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        await response.Content.ReadAsStringAsync();
        for (var i = 0; i < 100 && log.Count < 9; i++) await Task.Delay(20); // the log phase runs after the response
        Assert.Equal(["access:high", "access:mid", "access:low", "header:high", "header:mid", "header:low", "log:high", "log:mid", "log:low"], log.ToArray());
    }
}
