using Gatehouse.Proxy.Pipeline;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Proxy;

/// <summary>Writes <see cref="ProxyContext.LocalResponse"/> to the client, through the response-headers and
/// response-body phases, as Kong does for <c>kong.response.exit</c>.</summary>
internal static class LocalResponseWriter
{
    public static async Task WriteAsync(ProxyContext context, ProxySettings settings, bool runHandlers)
    {
        var local = context.LocalResponse!;
        var response = context.HttpContext.Response;
        response.Clear();
        response.StatusCode = local.StatusCode;
        foreach (var (name, value) in local.Headers) response.Headers.Append(name, value);
        ResponseDecorator.Local(response, context, settings);
        var plan = context.Plan;
        var filterBody = runHandlers && plan.HasBodyHandlers;
        response.ContentLength = local.Body.Length; // with body handlers, the filter stream corrects it before sending
        if (runHandlers) await PhaseRunner.ResponseHeadersAsync(plan, context);
        if (!filterBody)
        {
            if (!local.Body.IsEmpty && !HttpMethods.IsHead(context.HttpContext.Request.Method))
            {
                context.ResponseBodyBytes += local.Body.Length;
                await response.Body.WriteAsync(local.Body, context.HttpContext.RequestAborted);
            }
            return;
        }
        var filter = new ResponseBodyFilterStream(response.Body, context, plan) { ExpectedLength = local.Body.Length };
        if (!local.Body.IsEmpty) await filter.WriteAsync(local.Body, context.HttpContext.RequestAborted);
        await filter.CompleteAsync(context.HttpContext.RequestAborted);
    }
}
