// proxyfloor VARIANT PORT [UPSTREAM_HOST:PORT]
// One HTTP/1.1 server on 127.0.0.1:PORT, configured as the gateway configures Kestrel (inline I/O, no Server header,
// framework logging at warn, the runtime settings of Gatehouse.csproj), serving one of:
//   kestrel-direct  Kestrel answers 200 "hello\n" itself: Kestrel's floor (compare with nginx `return 200`)
//   yarp            Kestrel + YARP's IHttpForwarder over a SocketsHttpHandler tuned as the gateway's (no Gatehouse)
//   lean            Kestrel + LeanUpstream, an EXPERIMENTAL minimal HTTP/1.1 client (GET, Content-Length responses)
// GET /_alloc answers the bytes this process has allocated so far (GC.GetTotalAllocatedBytes(precise: true)), so a
// harness can take bytes per request over a run; the total is also printed when the process stops (SIGTERM).
using System.Globalization;
using System.Net;
using System.Net.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ProxyFloor;
using Yarp.ReverseProxy.Forwarder;

if (args.Length < 2 || args[0] is not ("kestrel-direct" or "yarp" or "lean") || (args[0] != "kestrel-direct" && args.Length < 3))
{
    Console.Error.WriteLine("usage: proxyfloor kestrel-direct|yarp|lean PORT [UPSTREAM_HOST:PORT]");
    return 2;
}
var variant = args[0];
var port = int.Parse(args[1], CultureInfo.InvariantCulture);
var upstream = args.Length > 2 ? IPEndPoint.Parse(args[2]) : null;

// as `gatehouse start` (Hosting/InlineIo.cs): the socket engine reads this once, at the first socket
if (Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") is null)
    Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");

var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
{
    Args = ["--hostBuilder:reloadConfigOnChange=false"],
    EnvironmentName = Environments.Production,
    ContentRootPath = AppContext.BaseDirectory,
});
builder.WebHost.UseSockets(s => s.UnsafePreferInlineScheduling = true);
builder.WebHost.ConfigureKestrel(k =>
{
    k.AddServerHeader = false;
    k.Listen(IPAddress.Loopback, port);
});
builder.Logging.ClearProviders();
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
builder.Logging.AddFilter("Yarp.ReverseProxy.Forwarder.HttpForwarder", LogLevel.None);
builder.Logging.AddSimpleConsole(c => c.SingleLine = true);
if (variant == "yarp") builder.Services.AddHttpForwarder();
var app = builder.Build();

RequestDelegate handler;
switch (variant)
{
    case "kestrel-direct":
        handler = KestrelDirect.Handle;
        break;
    case "yarp":
    {
        var forwarder = app.Services.GetRequiredService<IHttpForwarder>();
        // the gateway's handler settings (src/Gatehouse/Proxy/UpstreamConnector.cs) without its connect callback
        var invoker = new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            EnableMultipleHttp2Connections = true,
            ActivityHeadersPropagator = null,
            ConnectTimeout = Timeout.InfiniteTimeSpan,
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(60),
        });
        var prefix = $"http://{upstream}/";
        handler = async context =>
        {
            var error = await forwarder.SendAsync(context, prefix, invoker, ForwarderRequestConfig.Empty, HttpTransformer.Empty);
            if (error != ForwarderError.None && !context.Response.HasStarted) context.Response.StatusCode = 502;
        };
        break;
    }
    default:
        handler = new LeanUpstream(upstream!).ForwardAsync;
        break;
}

app.Run(context =>
{
    if (context.Request.Path.Value == "/_alloc")
    {
        context.Response.ContentType = "text/plain";
        return context.Response.WriteAsync(GC.GetTotalAllocatedBytes(precise: true).ToString(CultureInfo.InvariantCulture));
    }
    return handler(context);
});
app.Lifetime.ApplicationStopping.Register(() =>
    Console.WriteLine($"proxyfloor {variant}: allocated_bytes={GC.GetTotalAllocatedBytes(precise: true)}"));
app.Run();
return 0;
