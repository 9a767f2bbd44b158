using Gatehouse.Proxy.Pipeline;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Plugins;

/// <summary><c>kong.response</c>: exit with a local answer, or set response headers (deferred until the response
/// exists when called from the request phases).</summary>
public sealed class KongResponse(Kong kong)
{
    private static readonly Dictionary<int, string> DefaultMessages = new()
    {
        [400] = "Bad request", [401] = "Unauthorized", [403] = "Forbidden", [404] = "Not found",
        [405] = "Method not allowed", [413] = "Request size limit exceeded", [429] = "API rate limit exceeded",
        [500] = "An unexpected error occurred", [502] = "Bad Gateway", [503] = "Service unavailable",
    };

    public IHeaderDictionary Headers => kong.Context.HttpContext.Response.Headers;
    public int Status => kong.Context.HttpContext.Response.StatusCode;

    /// <summary>Kong's <c>{"message":…}</c> exit.</summary>
    public PhaseOutcome Exit(int status, string message, IReadOnlyList<KeyValuePair<string, string>>? headers = null) =>
        kong.Context.Exit(LocalResponse.Message(status, message, headers));

    /// <summary>An exit with Kong's default message for the status (or an empty body when there is none).</summary>
    public PhaseOutcome Exit(int status, IReadOnlyList<KeyValuePair<string, string>>? headers = null) =>
        DefaultMessages.TryGetValue(status, out var m) ? Exit(status, m, headers) : kong.Context.Exit(new LocalResponse(status, default, headers));

    public PhaseOutcome Exit(LocalResponse response) => kong.Context.Exit(response);

    /// <summary>Sets a response header now (header phase) or once the response exists (request phases).</summary>
    public void SetHeader(string name, string? value, bool deferred)
    {
        if (deferred) { kong.AddPendingHeader(name, value); return; }
        if (value is null) Headers.Remove(name); else Headers[name] = ProxyWasm.Http.HeaderBytes.FromText(value); // text → UTF-8 bytes
    }
}
