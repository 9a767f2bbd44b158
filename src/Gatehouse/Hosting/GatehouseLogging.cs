using Gatehouse.Config;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Hosting;

/// <summary>The error log: single-line console output at log_level; framework categories (Microsoft, System, Yarp) only from warn up
/// (or at debug when log_level is debug); YARP's forwarding failures and Kestrel's bad-request events never (the proxy
/// logs each failure once, classified and rate limited: docs/gateway-core.md, "Error log").</summary>
internal static class GatehouseLogging
{
    public static void Configure(ILoggingBuilder logging, GatehouseOptions options, Action<ILoggingBuilder>? custom)
    {
        logging.ClearProviders();
        var level = GatehouseLogLevels.ToLogLevel(options.LogLevel);
        logging.SetMinimumLevel(level);
        logging.AddFilter("Microsoft", level == LogLevel.Debug ? LogLevel.Debug : LogLevel.Warning);
        logging.AddFilter("System", level == LogLevel.Debug ? LogLevel.Debug : LogLevel.Warning);
        // YARP logs every forwarded request at Information: per-request noise on the hot path.
        logging.AddFilter("Yarp", level == LogLevel.Debug ? LogLevel.Debug : LogLevel.Warning);
        // ... and every forwarding failure with its stack trace, client aborts and bad client bodies included: the proxy
        // handler logs each failure once, classified (client → debug, upstream → error) and rate limited.
        logging.AddFilter("Yarp.ReverseProxy.Forwarder.HttpForwarder", LogLevel.None);
        // Kestrel's bad-request events (malformed framing, slow clients) carry the exception: bad input, not a fault.
        // Requests that reach the proxy are logged by its handler at debug, without the stack.
        logging.AddFilter("Microsoft.AspNetCore.Server.Kestrel.BadRequests", LogLevel.None);
        // ASP.NET's hosting diagnostics start an Activity and a log scope for every request as soon as this category is
        // enabled at any level (~10% of the proxy's allocations); it only logs request start/end, and application
        // failures are logged by our handlers and by Kestrel's own category.
        if (level != LogLevel.Debug) logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        // A hosted service that cannot start (a bad declarative_config) is reported by `start` itself, in one line and
        // the entity errors; the host's own "Hosting failed to start" would print it first with its .NET stack. A
        // background service that stops the host is still logged (Critical).
        if (level != LogLevel.Debug) logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
        if (custom is not null)
        {
            custom(logging);
            return;
        }
        logging.AddSimpleConsole(c =>
        {
            c.SingleLine = true;
            c.UseUtcTimestamp = true;
            c.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
        });
    }
}
