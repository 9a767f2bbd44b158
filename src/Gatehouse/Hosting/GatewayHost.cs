using Gatehouse.Wasm;
using Gatehouse.Admin;
using Gatehouse.Config;
using Gatehouse.Model;
using Gatehouse.Plugins;
using Gatehouse.Proxy;
using Gatehouse.Store;
using Gatehouse.Store.Outage;
using Gatehouse.Manager;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace Gatehouse.Hosting;

/// <summary>
/// One gateway process: a single WebApplication whose Kestrel listeners serve the proxy, Admin API and status
/// planes. The first middleware branches on the listener: proxy connections go straight to
/// <see cref="ProxyRequestHandler"/> (no endpoint routing on the proxy path), status connections to
/// <see cref="StatusEndpoint"/>, admin connections continue into endpoint routing and the Admin API.
/// </summary>
public sealed class GatewayHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private GatewayHost(WebApplication app, GatehouseOptions options)
    {
        _app = app;
        Options = options;
    }

    public GatehouseOptions Options { get; }
    public IServiceProvider Services => _app.Services;
    public GatewayConfigPublisher Publisher => _app.Services.GetRequiredService<GatewayConfigPublisher>();

    /// <summary>Builds (does not start) a gateway for the given options.</summary>
    public static GatewayHost Create(GatehouseOptions options, GatewayHostOptions? hostOptions = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        hostOptions ??= new GatewayHostOptions();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            // the gateway reads gatehouse.conf, not appsettings*.json: no file watcher on them (a thread and
            // System.IO.FileSystem.Watcher loaded for nothing; issue #16 goal 4)
            Args = ["--hostBuilder:reloadConfigOnChange=false"],
            EnvironmentName = Environments.Production,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.WebHost.UseKestrelHttpsConfiguration();
        var counters = new GatewayCounters();
        InlineIo.Configure(builder.WebHost, options);
        KestrelListeners.ConfigureSockets(builder.WebHost);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            // header values are bytes end to end (nginx): see HeaderEncoding
            k.RequestHeaderEncodingSelector = Proxy.HeaderEncoding.Request;
            k.ResponseHeaderEncodingSelector = Proxy.HeaderEncoding.Response;
            KestrelListeners.Configure(k, options, counters);
        });
        builder.Services.Configure<HostOptions>(h => h.ShutdownTimeout = hostOptions.ShutdownTimeout);
        GatehouseLogging.Configure(builder.Logging, options, hostOptions.ConfigureLogging);
        // :: services every plane shares
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton<GatewayConfigPublisher>();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(counters);
        builder.Services.AddSingleton<StatusReport>();
        builder.Services.TryAddSingleton<AdminNodeInfo>(); // node_id of /metrics, also without the store
        builder.Services.AddSingleton<GatewayReloader>();
        // client_ssl without client_ssl_cert presents the self-signed default, as Kong presents kong-default.crt
        builder.Services.AddSingleton(Proxy.UpstreamTlsDefaults.From(options, () => DefaultCertificate.PemPair(options.Prefix)));
        builder.Services.AddGatehouseProxy(options);
        builder.Services.AddSingleton<ManagerBinding>();
        builder.Services.AddSingleton<AdminGuard>();
        builder.Services.AddSingleton<ManagerSite>();
        builder.Services.AddSingleton(new StoreStartupOptions(hostOptions.RunMigrations));
        if (hostOptions.IncludeStoreAndAdmin) builder.Services.AddGatehouseStore(options);
        builder.Services.AddGatehousePlugins(options); // issue 5: before any other plan contributor (Wasm filter chains)
        builder.Services.AddGatehouseWasm(options); // issue 4: after store/plugins (filters run last)
        builder.Services.AddGatehouseEntities(); // the plugin names of both
        hostOptions.ConfigureServices?.Invoke(builder.Services);
        var app = builder.Build();
        Assemble(app, hostOptions.IncludeStoreAndAdmin);
        return new GatewayHost(app, options);
    }

    private static void Assemble(WebApplication app, bool includeAdmin)
    {
        var proxy = app.Services.GetRequiredService<ProxyRequestHandler>();
        var counters = app.Services.GetRequiredService<GatewayCounters>();
        var guard = app.Services.GetRequiredService<AdminGuard>();
        var manager = app.Services.GetRequiredService<ManagerSite>();
        var metrics = new MetricsEndpoint(app.Services);
        // database = postgres: Admin answers say where their data comes from, and a write during an outage is a 503
        var outage = includeAdmin && app.Services.GetService<OutageTolerantEntityStore>() is { } tolerant ? new AdminDatabaseOutage(tolerant) : null;
        // the proxy plane goes straight to its handler (which counts itself) without an async frame of its own here
        // (the connection's activity is looked up once per request, here, and handed on)
        app.Use(next => http => ConnectionActivity.Of(http) is var activity && activity?.Kind == ListenerKind.Proxy
            ? proxy.InvokeAsync(http, activity)
            : OtherPlanesAsync(http, activity?.Kind ?? ListenerKind.Admin, next));
        app.UseRouting();
        if (includeAdmin) app.MapAdminApi();
        app.Map(StatusEndpoint.Path, StatusEndpoint.WriteAsync); // the Admin API's /status: the same one as status_listen
        if (includeAdmin && metrics.Served) app.Map(MetricsEndpoint.Path, metrics.WriteAsync); // Kong's prometheus api.lua: /metrics on the Admin API too

        async Task OtherPlanesAsync(HttpContext http, ListenerKind kind, RequestDelegate next)
        {
            var connection = counters.Begin(http);
            try
            {
                if (!await guard.AdmitAsync(http, kind)) return; // Host, Origin/CORS, admin_token
                if (kind == ListenerKind.Manager) await manager.ServeAsync(http);
                else if (kind != ListenerKind.Status)
                {
                    if (outage is null) await next(http); // the Admin API's endpoints
                    else await outage.InvokeAsync(http, next);
                }
                else if (http.Request.Path.Equals(StatusEndpoint.Path, StringComparison.Ordinal)) await StatusEndpoint.WriteAsync(http);
                else if (metrics.Served && http.Request.Path.Equals(MetricsEndpoint.Path, StringComparison.Ordinal)) await metrics.WriteAsync(http);
                else http.Response.StatusCode = StatusCodes.Status404NotFound;
            }
            finally { counters.End(http, connection); }
        }
    }

    /// <summary>Starts the hosted services (the store publishes its first configuration) and then the listeners.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        RequestDebugTokenFile.Apply(Options.Prefix, _app.Services.GetRequiredService<RequestDebug>(),
            _app.Services.GetRequiredService<ILoggerFactory>().CreateLogger<RequestDebug>());
        await _app.StartAsync(cancellationToken);
        // the Manager's origin (CORS) and its kconfig.js need the ports the system chose for port 0
        _app.Services.GetRequiredService<ManagerBinding>().Bind(Addresses(ListenerKind.Manager), Addresses(ListenerKind.Admin));
    }

    /// <summary>Stops accepting, lets in-flight requests finish (up to the shutdown timeout), then stops.</summary>
    public Task StopAsync(CancellationToken cancellationToken = default) => _app.StopAsync(cancellationToken);

    /// <summary>Applies what a reload can apply in this process (<see cref="GatewayReloader"/>).</summary>
    public Task<bool> ReloadAsync(GatehouseOptions fresh, CancellationToken cancellationToken = default) =>
        _app.Services.GetRequiredService<GatewayReloader>().ReloadAsync(fresh, cancellationToken);

    /// <summary>Completes when the host is stopped (by <see cref="StopAsync"/> or a signal).</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken = default) => _app.WaitForShutdownAsync(cancellationToken);

    /// <summary>Bound addresses of one plane, with real ports (after <see cref="StartAsync"/>).</summary>
    public IReadOnlyList<Uri> Addresses(ListenerKind kind)
    {
        var bound = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        var wanted = kind switch
        {
            ListenerKind.Proxy => Options.ProxyListen,
            ListenerKind.Admin => Options.AdminListen,
            ListenerKind.Manager => Options.AdminGuiListen,
            _ => Options.StatusListen,
        };
        // Kestrel lists addresses in the order endpoints were added: proxy, admin, status, manager
        var skip = kind switch
        {
            ListenerKind.Proxy => 0,
            ListenerKind.Admin => Options.ProxyListen.Count,
            ListenerKind.Status => Options.ProxyListen.Count + Options.AdminListen.Count,
            _ => Options.ProxyListen.Count + Options.AdminListen.Count + Options.StatusListen.Count,
        };
        return bound.Skip(skip).Take(wanted.Count).Select(a => new Uri(a.Replace("[::]", "localhost", StringComparison.Ordinal))).ToArray();
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
