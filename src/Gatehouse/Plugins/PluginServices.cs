using Gatehouse.Plugins.Bundled.Logging;
using Gatehouse.Plugins.Bundled.Prometheus;
using Gatehouse.Plugins.Bundled.ProxyCache;
using Gatehouse.Plugins.Bundled.RateLimiting;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Plugins;

/// <summary>Long-lived state and services shared by plugin handlers across snapshots (Kong's shared dicts and
/// timers): rate-limit counters survive a configuration change, as in Kong.</summary>
public sealed class PluginServices
{
    public PluginServices(TimeProvider time, ILoggerFactory loggers, RateLimitCounters counters, LogSinks logSinks,
        PrometheusMetrics metrics, ProxyCacheStore cache, Bundled.OpenTelemetry.SpanExporters spanExporters)
    {
        LogSinks = logSinks ?? throw new ArgumentNullException(nameof(logSinks));
        Metrics = metrics ?? throw new ArgumentNullException(nameof(metrics));
        Cache = cache ?? throw new ArgumentNullException(nameof(cache));
        SpanExporters = spanExporters ?? throw new ArgumentNullException(nameof(spanExporters));
        Time = time ?? throw new ArgumentNullException(nameof(time));
        Loggers = loggers ?? throw new ArgumentNullException(nameof(loggers));
        Counters = counters ?? throw new ArgumentNullException(nameof(counters));
    }

    public TimeProvider Time { get; }
    public ILoggerFactory Loggers { get; }
    public RateLimitCounters Counters { get; }
    public LogSinks LogSinks { get; }
    public PrometheusMetrics Metrics { get; }
    public ProxyCacheStore Cache { get; }
    /// <summary>The opentelemetry plugin's exporters (one per distinct export setting).</summary>
    public Bundled.OpenTelemetry.SpanExporters SpanExporters { get; }
}
