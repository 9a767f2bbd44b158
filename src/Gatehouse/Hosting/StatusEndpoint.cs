using System.Text.Json;
using Gatehouse.Model;
using Gatehouse.Proxy;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Hosting;

/// <summary>
/// <c>GET /status</c> in Kong's shape (subset): <c>{"database":{"reachable":true},"server":{"total_requests":n,
/// "connections_active":n},"configuration_version":v}</c>. Served on status_listen, and on admin_listen unless the
/// Admin API maps its own /status.
/// </summary>
public static class StatusEndpoint
{
    public const string Path = "/status";

    public static async Task WriteAsync(HttpContext http)
    {
        var counters = http.RequestServices.GetRequiredService<GatewayCounters>();
        var publisher = http.RequestServices.GetRequiredService<GatewayConfigPublisher>();
        http.Response.ContentType = "application/json; charset=utf-8";
        await using var json = new Utf8JsonWriter(http.Response.Body);
        json.WriteStartObject();
        json.WriteStartObject("database");
        json.WriteBoolean("reachable", true);
        json.WriteEndObject();
        json.WriteStartObject("server");
        json.WriteNumber("total_requests", counters.TotalRequests);
        json.WriteNumber("connections_active", counters.ActiveRequests);
        json.WriteEndObject();
        json.WriteNumber("configuration_version", publisher.Current.Version);
        json.WriteEndObject();
        await json.FlushAsync(http.RequestAborted);
    }
}
