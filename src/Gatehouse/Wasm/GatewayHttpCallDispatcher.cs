using System.Net;
using Gatehouse.Model;
using Gatehouse.Proxy.Tracing;
using ProxyWasm.Http;

namespace Gatehouse.Wasm;

/// <summary>
/// HTTP calls from filters (<c>proxy_http_call</c>) through the gateway's own client. The upstream a filter names
/// is a service name of the current configuration (its protocol, host and port), or <c>host[:port]</c> / an IP
/// (plain HTTP, port 80 by default), as ngx_wasm_module accepts. The call's timeout comes from the filter.
/// </summary>
internal sealed class GatewayHttpCallDispatcher : IHttpCallDispatcher, IDisposable
{
    private static readonly HashSet<string> SkippedHeaders = new(StringComparer.OrdinalIgnoreCase)
    { "host", "content-length", "transfer-encoding", "connection" };

    private readonly GatewayConfigPublisher _publisher;
    private readonly HttpClient _client = new(new SocketsHttpHandler
    {
        UseProxy = false, AllowAutoRedirect = false, UseCookies = false, ConnectTimeout = TimeSpan.FromSeconds(60),
        // a filter's header bytes go out and come back unchanged (Proxy.HeaderEncoding)
        RequestHeaderEncodingSelector = Proxy.HeaderEncoding.Upstream,
        ResponseHeaderEncodingSelector = Proxy.HeaderEncoding.Upstream,
    }) { Timeout = Timeout.InfiniteTimeSpan };

    public GatewayHttpCallDispatcher(GatewayConfigPublisher publisher) =>
        _publisher = publisher ?? throw new ArgumentNullException(nameof(publisher));

    public bool IsKnownUpstream(string upstream) => Resolve(upstream) is not null;

    public Task<HttpCallResponse> SendAsync(HttpCallRequest request, CancellationToken cancellationToken)
    {
        var baseUri = Resolve(request.Upstream);
        // Kong's http_client span, for a call made on behalf of a traced request (opened here, on the dispatching thread)
        var span = request.Origin is AspNetHttpStream { Context.Trace: { } trace }
            ? ClientSpans.OpenHttpCall(trace, request.Header(":method") ?? "GET", CallUrl(request, baseUri), request.Header("user-agent"))
            : null;
        return span is null ? SendCoreAsync(request, baseUri, cancellationToken) : SendTracedAsync(request, baseUri, span, cancellationToken);
    }

    private async Task<HttpCallResponse> SendTracedAsync(HttpCallRequest request, Uri? baseUri, TraceSpan span, CancellationToken cancellationToken)
    {
        HttpCallResponse? response = null;
        try
        {
            response = await SendCoreAsync(request, baseUri, cancellationToken);
            return response;
        }
        finally
        {
            // a call the VM cancelled (the request ended) throws: its span says so
            ClientSpans.EndHttpCall(span, response is { Failed: false } ok ? StatusOf(ok) : null,
                response is null ? "cancelled" : response.Failed ? response.FailureReason : null);
        }
    }

    private static int? StatusOf(HttpCallResponse response) =>
        response.Headers.Count > 0 && int.TryParse(response.Headers[0].Value, System.Globalization.CultureInfo.InvariantCulture, out var status) ? status : null;

    /// <summary>Kong's <c>http.url</c>: scheme, the authority the filter named, path.</summary>
    private static string CallUrl(HttpCallRequest request, Uri? baseUri) =>
        string.Concat(baseUri?.Scheme ?? "http", "://", request.Header(":authority") ?? request.Upstream, request.Header(":path") ?? "/");

    private async Task<HttpCallResponse> SendCoreAsync(HttpCallRequest request, Uri? baseUri, CancellationToken cancellationToken)
    {
        if (baseUri is null) return HttpCallResponse.Failure("resolver failure");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(request.Timeout);
        using var message = new HttpRequestMessage(new HttpMethod(request.Header(":method") ?? "GET"), new Uri(baseUri, request.Header(":path") ?? "/"));
        if (!request.Body.IsEmpty) message.Content = new ReadOnlyMemoryContent(request.Body);
        if (request.Header(":authority") is { Length: > 0 } authority) message.Headers.Host = authority;
        foreach (var (name, value) in request.Headers)
        {
            if (name.StartsWith(':') || SkippedHeaders.Contains(name)) continue;
            if (!message.Headers.TryAddWithoutValidation(name, value)) message.Content?.Headers.TryAddWithoutValidation(name, value);
        }
        try
        {
            using var response = await _client.SendAsync(message, timeout.Token);
            var body = await response.Content.ReadAsByteArrayAsync(timeout.Token);
            var headers = new List<(string, string)>();
            foreach (var (k, v) in response.Headers.Concat(response.Content.Headers))
                foreach (var value in v) headers.Add((k.ToLowerInvariant(), value));
            return HttpCallResponse.Ok((int)response.StatusCode, body, [.. headers]);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested) { return HttpCallResponse.Failure("timeout"); }
        catch (HttpRequestException) { return HttpCallResponse.Failure("broken connection"); }
    }

    private Uri? Resolve(string upstream)
    {
        if (string.IsNullOrEmpty(upstream)) return null;
        foreach (var service in _publisher.Current.Services)
            if (service.Name == upstream)
                return new Uri($"{(service.Protocol == "https" ? "https" : "http")}://{Bracket(service.Host)}:{service.Port}/");
        if (IPAddress.TryParse(upstream, out var ip)) return new Uri($"http://{Bracket(ip.ToString())}:80/");
        return Uri.TryCreate("http://" + upstream + "/", UriKind.Absolute, out var uri) && uri.Host.Length > 0 ? uri : null;
    }

    private static string Bracket(string host) => host.Contains(':') && !host.StartsWith('[') ? $"[{host}]" : host;

    public void Dispose() => _client.Dispose();
}
