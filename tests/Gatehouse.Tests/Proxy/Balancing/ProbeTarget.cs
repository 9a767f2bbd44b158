using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Tests.Proxy.Balancing;

/// <summary>What a <see cref="ProbeTarget"/> does with a request.</summary>
internal enum ProbeBehaviour { Answer, Hang, Close }

/// <summary>Holds hanging requests of several targets until the test lets them go one at a time, and counts how
/// many are held at once.</summary>
internal sealed class HangGate
{
    private readonly SemaphoreSlim _gate = new(0);
    private int _inFlight, _maxInFlight;

    public int InFlight => Volatile.Read(ref _inFlight);
    public int MaxInFlight => Volatile.Read(ref _maxInFlight);

    public void ReleaseOne() => _gate.Release();

    public async Task WaitAsync(CancellationToken aborted)
    {
        var now = Interlocked.Increment(ref _inFlight);
        int max;
        while (now > (max = Volatile.Read(ref _maxInFlight)) && Interlocked.CompareExchange(ref _maxInFlight, now, max) != max) { }
        try
        {
            await _gate.WaitAsync(aborted);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }
}

/// <summary>A real Kestrel server on 127.0.0.1:0 for health probes: answers <see cref="Status"/>, hangs (until the
/// client gives up, or a <see cref="HangGate"/> lets it go) or closes the connection without answering, as the
/// test sets it. Records each request's path, Host, SNI and headers.</summary>
internal sealed class ProbeTarget : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _requests;
    private int _disposed;

    private ProbeTarget(WebApplication app) => _app = app;

    public int Port { get; private set; }
    public volatile int Status = 200;
    public volatile ProbeBehaviour Behaviour = ProbeBehaviour.Answer;
    public HangGate? Gate { get; init; }
    public int Requests => Volatile.Read(ref _requests);
    public ConcurrentQueue<HttpRequestSeen> Seen { get; } = new();

    public static async Task<ProbeTarget> StartAsync(X509Certificate2? certificate = null, HangGate? gate = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l =>
        {
            l.Protocols = HttpProtocols.Http1;
            if (certificate is not null) l.UseHttps(h => h.ServerCertificateSelector = (connection, name) =>
            {
                connection!.Items["sni"] = name;
                return certificate;
            });
        }));
        var app = builder.Build();
        ProbeTarget? self = null;
        app.Run(async http =>
        {
            var target = self!;
            Interlocked.Increment(ref target._requests);
            target.Seen.Enqueue(new HttpRequestSeen(http.Request.Path + http.Request.QueryString, http.Request.Host.Value ?? "",
                http.Features.Get<Microsoft.AspNetCore.Connections.Features.IConnectionItemsFeature>()?.Items.TryGetValue("sni", out var s) == true ? s as string : null,
                http.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToArray())));
            switch (target.Behaviour)
            {
                case ProbeBehaviour.Close:
                    http.Abort();
                    return;
                case ProbeBehaviour.Hang:
                    try
                    {
                        if (target.Gate is { } g) await g.WaitAsync(http.RequestAborted);
                        else await Task.Delay(Timeout.Infinite, http.RequestAborted);
                    }
                    catch (OperationCanceledException) { return; }
                    break;
            }
            http.Response.StatusCode = target.Status;
        });
        self = new ProbeTarget(app) { Gate = gate };
        await app.StartAsync();
        self.Port = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;
        return self;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return; // a test may stop a target before its using ends
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        await _app.StopAsync(limit.Token);
        await _app.DisposeAsync();
    }
}

internal sealed record HttpRequestSeen(string PathAndQuery, string Host, string? Sni, Dictionary<string, string?[]> Headers);
