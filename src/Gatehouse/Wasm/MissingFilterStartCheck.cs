using Gatehouse.Config;
using Gatehouse.Model;
using Microsoft.Extensions.Hosting;

namespace Gatehouse.Wasm;

/// <summary>
/// Kong 3.9 <c>wasm.check_enabled_filters()</c> (§1.5): in DB mode, a stored filter chain naming a filter that is
/// not enabled stops the start. Registered after the store initializer, so it reads the first published
/// configuration. DB-less needs no check: the declarative file is validated (<c>no such filter</c>). Filter
/// plugins are not covered, as in Kong; they are simply not run.
/// </summary>
internal sealed class MissingFilterStartCheck(WasmFilterCatalog catalog, GatehouseOptions options, GatewayConfigPublisher publisher) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (!catalog.Enabled || options.Database == DatabaseKind.Off) return Task.CompletedTask;
        if (Describe(publisher.Current, catalog) is { } error) throw new WasmStartupException(error);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Kong's message, one line per missing filter (every chain and entry, enabled or not), or null.</summary>
    public static string? Describe(GatewayConfig config, WasmFilterCatalog catalog)
    {
        var lines = new List<string>();
        foreach (var chain in config.FilterChains)
            for (var i = 0; i < chain.Filters.Length; i++)
                if (catalog.ByName(chain.Filters[i].Name) is null)
                    lines.Add($"filter chain: {chain.Id}, filter: #{i + 1} ({chain.Filters[i].Name})");
        return lines.Count == 0 ? null
            : "[wasm]: found one or more filter chain entities with filters that are not enabled/installed:\n" + string.Join("\n", lines);
    }
}
