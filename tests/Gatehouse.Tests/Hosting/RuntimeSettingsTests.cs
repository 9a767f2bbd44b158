using System.Text.Json.Nodes;
using Xunit;

namespace Gatehouse.Tests.Hosting;

/// <summary>
/// Issue #16 goal 4: the runtime settings the gateway's executable ships with (its gatehouse.runtimeconfig.json, the
/// one `dotnet publish` copies). Background GC keeps the workstation GC's gen0 budget at its minimum (W10's GC heap
/// 26 MB instead of 42-46 MB, bench/NOTES.md); ICU is not loaded (invariant globalization: every comparison in the
/// code is ordinal or invariant).
/// </summary>
public sealed class RuntimeSettingsTests
{
    private static JsonObject ConfigProperties()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "gatehouse.runtimeconfig.json");
        var root = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        return root["runtimeOptions"]!["configProperties"]!.AsObject();
    }

    [Fact]
    public void The_gateway_runs_workstation_gc_in_the_background_mode_with_invariant_globalization()
    {
        var properties = ConfigProperties();
        Assert.False(properties["System.GC.Server"]!.GetValue<bool>());
        Assert.True(properties["System.GC.Concurrent"]!.GetValue<bool>());
        Assert.True(properties["System.Globalization.Invariant"]!.GetValue<bool>());
    }

    [Fact]
    public async Task A_running_gateway_maps_no_icu()
    {
        await using var upstream = await Infrastructure.EchoUpstream.StartAsync();
        await using var gateway = await Infrastructure.GatewayProcess.StartDbLessAsync("_format_version: \"3.0\"\n");
        var maps = await gateway.MemoryMapsAsync();
        Assert.DoesNotContain("libicu", maps, StringComparison.Ordinal);
    }
}
