using ProxyWasm.Runtime;

namespace ProxyWasm.Http;

/// <summary>
/// Embedder extension point for <c>proxy_get_property</c>/<c>proxy_set_property</c>: request, connection,
/// upstream and <c>kong.*</c> values. Paths arrive dotted (<c>request.headers.x-id</c>) whatever the guest sent
/// (NUL-separated or dotted). Use <see cref="PropertyValues"/> to encode typed values.
/// </summary>
public interface IPropertyProvider
{
    /// <summary>Looks a property up; false ⇒ the host tries its built-ins, then answers NOT_FOUND.</summary>
    bool TryGetProperty(string path, PropertyEncoding encoding, out ReadOnlyMemory<byte> value);

    /// <summary>Handles a write (e.g. <c>kong.response.status</c>); false ⇒ the host stores it per context.</summary>
    bool TrySetProperty(string path, ReadOnlySpan<byte> value) => false;
}
