using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Proxy;

/// <summary>
/// What the handshake of one proxy <c>ssl</c> connection concluded about the client's certificate, as nginx's
/// <c>$ssl_client_verify</c> (<c>NONE</c>, <c>SUCCESS</c>, <c>FAILED:&lt;reason&gt;</c>), and the 400 nginx answers every
/// request of that connection with when <c>ssl_verify_client</c> refuses it. Stored in the connection's items by
/// Hosting's verifier; only on connections of a listener that asks for client certificates.
/// </summary>
internal sealed class ClientCertificateVerdict
{
    internal const string ItemKey = "gatehouse.client_certificate";

    private ClientCertificateVerdict(X509Certificate2? certificate, string verify, string? refusal, bool succeeded = false)
    {
        Certificate = certificate;
        Verify = verify;
        Refusal = refusal;
        Succeeded = succeeded;
    }

    /// <summary>The certificate the client sent, verified or not.</summary>
    public X509Certificate2? Certificate { get; }
    /// <summary>nginx's <c>$ssl_client_verify</c>.</summary>
    public string Verify { get; }
    /// <summary>nginx's message for the 400 every request on this connection gets, or null.</summary>
    public string? Refusal { get; }
    /// <summary>The certificate verified (<c>SUCCESS</c>): Proxy-Wasm's <c>connection.mtls</c>.</summary>
    public bool Succeeded { get; }

    public static ClientCertificateVerdict None(bool required) =>
        new(null, "NONE", required ? ProxyMessages.NoClientCertificate : null);

    public static ClientCertificateVerdict Success(X509Certificate2 certificate) => new(certificate, "SUCCESS", null, succeeded: true);

    public static ClientCertificateVerdict Failed(X509Certificate2 certificate, string reason, bool refused) =>
        new(certificate, "FAILED:" + reason, refused ? ProxyMessages.ClientCertificateError : null);

    public static ClientCertificateVerdict? Of(HttpContext http) =>
        http.Features.Get<IConnectionItemsFeature>()?.Items.TryGetValue(ItemKey, out var v) == true ? v as ClientCertificateVerdict : null;
}
