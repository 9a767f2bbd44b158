using System.Net.Http.Json;

namespace Gatehouse.Tests.Infrastructure;

/// <summary>Small helpers to send a request through the gateway and read the echo.</summary>
public static class ProxyRequests
{
    public static HttpRequestMessage Get(string pathAndQuery, string? host = null, string method = "GET")
    {
        var request = new HttpRequestMessage(new HttpMethod(method), pathAndQuery);
        if (host is not null) request.Headers.Host = host;
        request.Headers.TryAddWithoutValidation("Gatehouse-Debug", "1");
        return request;
    }

    public static async Task<EchoResponse> EchoAsync(this HttpResponseMessage response)
    {
        var echo = await response.Content.ReadFromJsonAsync<EchoResponse>(EchoResponse.Json);
        return echo ?? throw new InvalidOperationException("empty echo");
    }

    public static string? Single(this HttpResponseMessage response, string header) =>
        response.Headers.TryGetValues(header, out var v) ? string.Join(",", v)
        : response.Content.Headers.TryGetValues(header, out var c) ? string.Join(",", c) : null;
}
