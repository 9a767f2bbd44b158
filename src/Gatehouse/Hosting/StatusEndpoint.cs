using Gatehouse.Admin;
using Gatehouse.Proxy;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Hosting;

/// <summary><c>GET /status</c> (Kong's shape, from <see cref="StatusReport"/>), the same answer on admin_listen and
/// status_listen: 405 for other methods, 400 for a bad <c>unit</c>/<c>scale</c>.</summary>
public static class StatusEndpoint
{
    public const string Path = "/status";

    public static async Task WriteAsync(HttpContext http)
    {
        if (!HttpMethods.IsGet(http.Request.Method) && !HttpMethods.IsHead(http.Request.Method))
        {
            await AdminResponses.MethodNotAllowed().ExecuteAsync(http);
            return;
        }
        var query = http.Request.Query;
        if (!MemoryUnit.TryParse(query["unit"].FirstOrDefault(), query["scale"].FirstOrDefault(), out var unit, out var error))
        {
            await AdminResponses.Message(error!, StatusCodes.Status400BadRequest).ExecuteAsync(http);
            return;
        }
        var report = http.RequestServices.GetRequiredService<StatusReport>();
        await AdminResponses.Json(await report.BuildAsync(unit, http.RequestAborted)).ExecuteAsync(http);
    }
}
