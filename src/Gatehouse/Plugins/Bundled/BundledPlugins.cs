using Gatehouse.Plugins.Bundled.Acl;
using Gatehouse.Plugins.Bundled.BasicAuth;
using Gatehouse.Plugins.Bundled.CorrelationId;
using Gatehouse.Plugins.Bundled.Cors;
using Gatehouse.Plugins.Bundled.IpRestriction;
using Gatehouse.Plugins.Bundled.KeyAuth;
using Gatehouse.Plugins.Bundled.Logging;
using Gatehouse.Plugins.Bundled.Prometheus;
using Gatehouse.Plugins.Bundled.ProxyCache;
using Gatehouse.Plugins.Bundled.RateLimiting;
using Gatehouse.Plugins.Bundled.RequestSizeLimiting;
using Gatehouse.Plugins.Bundled.RequestTermination;
using Gatehouse.Plugins.Bundled.Transformers;

namespace Gatehouse.Plugins.Bundled;

/// <summary>The plugins shipped with Gatehouse, with Kong's names and priorities.</summary>
public static class BundledPlugins
{
    /// <param name="database">False for a DB-less node (rate-limiting then has no <c>cluster</c> policy, as Kong).</param>
    public static IReadOnlyList<GatehousePlugin> Create(bool database = true) =>
    [
        new CorrelationIdPlugin(),      // 100001
        new CorsPlugin(),               // 2000
        new KeyAuthPlugin(),            // 1250
        new BasicAuthPlugin(),          // 1100
        new IpRestrictionPlugin(),      // 990
        new RequestSizeLimitingPlugin(),// 951
        new AclPlugin(),                // 950
        new RateLimitingPlugin(database), // 910
        new RequestTransformerPlugin(), // 801
        new ResponseTransformerPlugin(),// 800
        new ProxyCachePlugin(),         // 100
        new OpenTelemetry.OpenTelemetryPlugin(), // 14
        new PrometheusPlugin(),         // 13
        new HttpLogPlugin(),            // 12
        new FileLogPlugin(),            // 9
        new RequestTerminationPlugin(), // 2
    ];
}
