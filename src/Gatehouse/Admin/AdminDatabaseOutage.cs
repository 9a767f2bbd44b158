using Gatehouse.Entities;
using Gatehouse.Store.Outage;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Admin;

/// <summary>
/// Around every Admin API request when the store is a shared database (database = postgres): says where the
/// answer's data comes from in <see cref="Header"/> (<c>database</c>, or <c>snapshot</c> when the database was unreachable and a
/// read was answered from the last published configuration), and answers a request that needed the unreachable
/// database (any write) with 503 and Kong's error shape (code 8, "database error"). Nothing was written then: a DAO
/// write fails at its first statement, the cluster write lock.
/// </summary>
public sealed class AdminDatabaseOutage(OutageTolerantEntityStore store)
{
    public const string Header = "X-Gatehouse-Data-Source";

    public async Task InvokeAsync(HttpContext http, RequestDelegate next)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(next);
        var method = http.Request.Method;
        using var reads = store.BeginRequest(allowSnapshot: HttpMethods.IsGet(method) || HttpMethods.IsHead(method));
        http.Response.OnStarting(static state =>
        {
            var (response, reads) = ((HttpResponse, OutageTolerantEntityStore.RequestReads))state;
            if (response.StatusCode != StatusCodes.Status503ServiceUnavailable) // a refusal carries no data
                response.Headers[Header] = reads.FromSnapshot ? "snapshot" : "database";
            return Task.CompletedTask;
        }, (http.Response, reads));
        try
        {
            await next(http);
        }
        catch (DatabaseUnavailableException e) when (!http.Response.HasStarted)
        {
            var error = new DbError(DbErrorCode.DatabaseError,
                $"{e.Message}; this node serves its last configuration and accepts no change until the database returns");
            await AdminResponses.Json(error.ToJson(), StatusCodes.Status503ServiceUnavailable).ExecuteAsync(http);
        }
    }
}
