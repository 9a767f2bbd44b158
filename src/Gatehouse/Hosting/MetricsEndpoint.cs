using Gatehouse.Admin;
using Gatehouse.Config;
using Gatehouse.Plugins;
using Gatehouse.Plugins.Bundled.Prometheus;
using Gatehouse.Proxy;
using Gatehouse.Wasm;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Hosting;

/// <summary><c>GET /metrics</c>, the same answer on admin_listen and status_listen as Kong serves it on both: the
/// prometheus plugin's families with the node's figures now (<see cref="StatusReport"/>'s, the ones <c>/status</c>
/// reports), then the Proxy-Wasm filter metrics and Gatehouse's Wasm host figures. Served only while the prometheus
/// plugin is loaded (conf <c>plugins</c>): Kong's routes come from the plugin's api.lua and status_api.lua.</summary>
internal sealed class MetricsEndpoint(IServiceProvider services)
{
    public const string Path = "/metrics";

    /// <summary>False when conf <c>plugins</c> leaves prometheus out: no <c>/metrics</c> on any listener.</summary>
    public bool Served { get; } = services.GetService<PluginCatalog>()?.Find("prometheus") is not null;

    private readonly PrometheusMetrics _metrics = services.GetRequiredService<PrometheusMetrics>();
    private readonly StatusReport _report = services.GetRequiredService<StatusReport>();
    // resolved at the first scrape so the wasm runtime keeps its place in the start sequence
    private readonly Lazy<WasmMetricsExporter> _wasm = new(
        () => new(services.GetService<WasmFilterRuntime>()), LazyThreadSafetyMode.ExecutionAndPublication);

    public async Task WriteAsync(HttpContext http)
    {
        if (!HttpMethods.IsGet(http.Request.Method) && !HttpMethods.IsHead(http.Request.Method))
        {
            await AdminResponses.MethodNotAllowed().ExecuteAsync(http);
            return;
        }
        var node = await _report.NodeFiguresAsync(http.RequestAborted);
        await _metrics.WriteAsync(http, services.GetService<ProxySnapshotProvider>()?.Current, node);
        await _wasm.Value.WriteAsync(http);
    }
}
