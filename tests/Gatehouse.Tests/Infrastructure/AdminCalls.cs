using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gatehouse.Tests.Infrastructure;

/// <summary>One Admin API call as the test gateways make it: a JSON body (a string as is, anything else serialized),
/// the status and the parsed answer (null when empty).</summary>
internal static class AdminCalls
{
    public static async Task<(int Status, JsonNode? Body)> SendAsync(HttpClient admin, HttpMethod method, string path, object? json = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (json is not null)
            request.Content = new StringContent(json as string ?? JsonSerializer.Serialize(json), Encoding.UTF8, "application/json");
        return await SendAsync(admin, request);
    }

    public static async Task<(int Status, JsonNode? Body)> SendAsync(HttpClient admin, HttpRequestMessage request)
    {
        using var response = await admin.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }
}
