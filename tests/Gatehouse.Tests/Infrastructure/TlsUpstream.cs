using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Tests.Infrastructure;

/// <summary>
/// A real Kestrel HTTPS upstream on 127.0.0.1:0 presenting <c>certificate</c> (followed by the <c>chain</c> certificates
/// it sends along). With <c>requireClientCertificate</c> the handshake fails without a client certificate (any is
/// accepted). Every request is answered 200 with the body <c>client=&lt;subject of the client certificate or none&gt;</c>.
/// </summary>
internal sealed class TlsUpstream : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TlsUpstream(WebApplication app, int port) { _app = app; Port = port; }

    public int Port { get; }

    public static async Task<TlsUpstream> StartAsync(PemPair certificate, IEnumerable<PemPair>? chain = null, bool requireClientCertificate = false)
    {
        var serverCertificate = X509Certificate2.CreateFromPem(certificate.Cert, certificate.Key);
        var extra = new X509Certificate2Collection();
        foreach (var c in chain ?? []) extra.Add(X509Certificate2.CreateFromPem(c.Cert));
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.UseHttps(new HttpsConnectionAdapterOptions
        {
            ServerCertificate = serverCertificate,
            ServerCertificateChain = extra,
            ClientCertificateMode = requireClientCertificate ? ClientCertificateMode.RequireCertificate : ClientCertificateMode.NoCertificate,
            ClientCertificateValidation = (_, _, _) => true,
        })));
        var app = builder.Build();
        app.Run(async http =>
        {
            var client = await http.Connection.GetClientCertificateAsync();
            await http.Response.WriteAsync("client=" + (client?.Subject ?? "none"));
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new TlsUpstream(app, new Uri(address).Port);
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
