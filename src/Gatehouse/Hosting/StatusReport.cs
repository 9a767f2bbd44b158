using Gatehouse.Proxy;
using System.Globalization;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Entities;
using Gatehouse.Store;
using Gatehouse.Store.Declarative;
using Gatehouse.Store.Outage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Hosting;

/// <summary>
/// The body of <c>GET /status</c>, the one implementation behind the Admin API's and status_listen's: Kong's
/// <c>server</c> block (nginx stub_status counters from <see cref="GatewayCounters"/>), <c>database.reachable</c> from
/// a real query against the store (omitted DB-less, where Kong reports <c>configuration_hash</c> instead), and
/// <c>memory</c> with .NET's figures where Kong reports Lua VMs and shared dicts (docs/kong-compatibility.md).
/// </summary>
public sealed partial class StatusReport(GatewayCounters counters, GatehouseOptions options, IServiceProvider services,
    ILogger<StatusReport> logger)
{
    /// <summary>Kong's empty configuration hash (no declarative configuration applied).</summary>
    internal const string EmptyHash = "00000000000000000000000000000000";

    public async Task<JsonObject> BuildAsync(MemoryUnit unit, CancellationToken ct)
    {
        var body = new JsonObject();
        if (options.Database != DatabaseKind.Off)
            body["database"] = new JsonObject { ["reachable"] = await DatabaseReachableAsync("/status", ct) };
        var active = counters.ConnectionsActive;
        var reading = counters.ConnectionsReading;
        var writing = counters.ActiveRequests;
        var accepted = counters.ConnectionsAccepted;
        body["server"] = new JsonObject
        {
            ["connections_accepted"] = accepted,
            ["connections_active"] = active,
            ["connections_handled"] = accepted, // nothing refuses an accepted connection (no connection limit)
            ["connections_reading"] = reading,
            ["connections_waiting"] = Math.Max(0, active - reading - writing), // as nginx computes it
            ["connections_writing"] = writing,
            ["total_requests"] = counters.TotalRequests,
        };
        var wasm = new JsonObject();
        foreach (var (filter, vms, bytes) in services.GetService<Wasm.WasmFilterRuntime>()?.Plugins?.LinearMemoryByFilter() ?? [])
            wasm[filter] = new JsonObject { ["vms"] = vms, ["linear_memory"] = unit.Format(bytes) };
        body["memory"] = new JsonObject
        {
            // one process (Kong: one Lua VM per nginx worker); Wasm VMs' linear memories are native memory, in working_set too
            ["process"] = new JsonObject
            {
                ["pid"] = Environment.ProcessId,
                ["managed_heap"] = unit.Format(GC.GetTotalMemory(false)),
                ["working_set"] = unit.Format(Environment.WorkingSet),
            },
            ["wasm_filters"] = wasm,
        };
        if (options.Database == DatabaseKind.Off)
            body["configuration_hash"] = services.GetService<DeclarativeConfigService>()?.ConfigurationHash ?? EmptyHash;
        return body;
    }

    /// <summary>The node's figures for <c>/metrics</c>: the same counters as <see cref="BuildAsync"/>; the datastore
    /// is reachable DB-less (Kong's off connector always connects).</summary>
    internal async Task<Plugins.Bundled.Prometheus.NodeFigures> NodeFiguresAsync(CancellationToken ct)
    {
        var reachable = options.Database == DatabaseKind.Off || await DatabaseReachableAsync("/metrics", ct);
        var active = counters.ConnectionsActive;
        var reading = counters.ConnectionsReading;
        var writing = counters.ActiveRequests;
        var accepted = counters.ConnectionsAccepted;
        var nodeId = services.GetService<AdminNodeInfo>()?.NodeId.ToString() ?? "";
        return new(nodeId, GatehouseVersion.Kong, accepted, accepted, active, reading, writing,
            Math.Max(0, active - reading - writing), counters.TotalRequests, reachable,
            Environment.ProcessId, GC.GetTotalMemory(false), Environment.WorkingSet);
    }

    /// <summary>A real read of the store (a page of one row of the first entity); a failing open or query is
    /// unreachable, as Kong's connect failure.</summary>
    private async Task<bool> DatabaseReachableAsync(string endpoint, CancellationToken ct)
    {
        var store = services.GetService<IEntityStore>();
        var registry = services.GetService<EntityRegistry>();
        if (store is null || registry is null) return false; // a host built without its store has no database to reach
        try
        {
            // a shared database: ask it, never the snapshot that answers the Admin API's reads during an outage
            if (store is OutageTolerantEntityStore shared) return await shared.ProbeAsync(registry.Schemas[0], ct);
            await store.PageAsync(registry.Schemas[0], new PageQuery(1), ct);
            return true;
        }
        catch (Exception e) when (e is System.Data.Common.DbException or TimeoutException or System.Net.Sockets.SocketException)
        {
            LogUnreachable(logger, endpoint, e.Message);
            return false;
        }
    }

    [LoggerMessage(EventId = 1101, Level = LogLevel.Error, Message = "failed to query the database during {Endpoint} endpoint check: {Reason}")]
    private static partial void LogUnreachable(ILogger logger, string endpoint, string reason);
}

/// <summary>Kong's <c>unit</c> and <c>scale</c> query arguments of <c>/status</c> (its <c>bytes_to_str</c>): bytes as a
/// plain integer string (<c>b</c>), or KiB/MiB/GiB with <c>scale</c> decimals (default <c>m</c>, 2).</summary>
public readonly record struct MemoryUnit(char Unit, int Scale)
{
    public static MemoryUnit Default => new('m', 2);

    /// <summary>Parses the query's values; the error is Kong's message.</summary>
    public static bool TryParse(string? unit, string? scale, out MemoryUnit result, out string? error)
    {
        result = Default;
        error = null;
        var u = string.IsNullOrEmpty(unit) ? 'm' : unit.Length == 1 ? char.ToLowerInvariant(unit[0]) : '?';
        if (u is not ('b' or 'k' or 'm' or 'g'))
        {
            error = $"invalid unit '{unit}' (expected 'k/K', 'm/M', or 'g/G')";
            return false;
        }
        var s = 2;
        if (scale is not null && (!int.TryParse(scale, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out s) || s < 0))
        {
            error = "scale must be equal or greater than 0";
            return false;
        }
        result = new MemoryUnit(u, s);
        return true;
    }

    public string Format(long bytes) => Unit switch
    {
        'k' => Scaled(bytes / 1024.0, "KiB"),
        'm' => Scaled(bytes / (1024.0 * 1024), "MiB"),
        'g' => Scaled(bytes / (1024.0 * 1024 * 1024), "GiB"),
        _ => bytes.ToString(CultureInfo.InvariantCulture),
    };

    private string Scaled(double value, string suffix) => value.ToString("F" + Scale, CultureInfo.InvariantCulture) + " " + suffix;
}
