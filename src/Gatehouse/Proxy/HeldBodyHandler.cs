namespace Gatehouse.Proxy;

/// <summary>
/// In front of every upstream <see cref="SocketsHttpHandler"/>: a request whose transformer marked a body held whole in
/// memory (<see cref="Key"/>) is sent with a <see cref="HeldBodyContent"/> instead of YARP's streaming content. YARP
/// refuses a content replaced in the transformer; here it has made its checks, and since its content never starts it
/// does not wait for it (nothing to wait for: the held body is written before the response is read).
/// </summary>
internal sealed class HeldBodyHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
{
    public static readonly HttpRequestOptionsKey<SpillBuffer> Key = new("gatehouse.held_body");

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        // Options is made on first read: only a request with a body looks (the transformer marks only those)
        if (request.Content is { } content && request.Options.TryGetValue(Key, out var held))
            request.Content = new HeldBodyContent(held, content);
        return base.SendAsync(request, cancellationToken);
    }
}
