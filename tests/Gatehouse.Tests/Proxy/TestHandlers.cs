using System.Collections.Concurrent;
using System.Text;
using Gatehouse.Model;
using Gatehouse.Proxy.Pipeline;

namespace Gatehouse.Tests.Proxy;

/// <summary>Answers 403 in access for requests carrying <c>X-Block</c>, without touching the upstream.</summary>
internal sealed class BlockingHandler : IAccessHandler
{
    public string Name => "block";

    public ValueTask<PhaseOutcome> OnAccessAsync(ProxyContext context) =>
        ValueTask.FromResult(context.HttpContext.Request.Headers.ContainsKey("X-Block")
            ? context.Exit(new LocalResponse(403, Encoding.UTF8.GetBytes("blocked by test"), [new("Content-Type", "text/plain"), new("X-Blocked", "yes")]))
            : PhaseOutcome.Continue);
}

/// <summary>Upper-cases the response body; buffers everything first when <c>X-Buffer</c> is sent, to exercise both modes.</summary>
internal sealed class UpperCaseBodyHandler : IResponseBodyHandler, IResponseHeadersHandler
{
    public string Name => "upper";

    public ValueTask OnResponseHeadersAsync(ProxyContext context)
    {
        context.HttpContext.Response.Headers["X-Body-Rewritten"] = "true";
        return ValueTask.CompletedTask;
    }

    public ValueTask<BodyOutcome> OnResponseBodyAsync(ProxyContext context, BodyChunk chunk)
    {
        if (context.HttpContext.Request.Headers.ContainsKey("X-Buffer") && !chunk.EndOfStream)
            return ValueTask.FromResult(BodyOutcome.Buffer);
        chunk.Replace(Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(chunk.Data.Span).ToUpperInvariant()));
        return ValueTask.FromResult(BodyOutcome.Continue);
    }
}

/// <summary>Upper-cases the request body on its way upstream; buffers it whole when <c>X-Buffer</c> is sent.</summary>
internal sealed class UpperCaseRequestBodyHandler : IRequestBodyHandler
{
    public string Name => "upper-request";

    public ValueTask<BodyOutcome> OnRequestBodyAsync(ProxyContext context, BodyChunk chunk)
    {
        if (context.HttpContext.Request.Headers.ContainsKey("X-Buffer") && !chunk.EndOfStream)
            return ValueTask.FromResult(BodyOutcome.Buffer);
        chunk.Replace(Encoding.ASCII.GetBytes(Encoding.ASCII.GetString(chunk.Data.Span).ToUpperInvariant()));
        return ValueTask.FromResult(BodyOutcome.Continue);
    }
}

/// <summary>Records every request-body call (size, end of stream) and passes the data on.</summary>
internal sealed class RecordingRequestBodyHandler : IRequestBodyHandler
{
    public System.Collections.Concurrent.ConcurrentQueue<(int Size, bool End)> Calls { get; } = new();
    public string Name => "record-request-body";

    public ValueTask<BodyOutcome> OnRequestBodyAsync(ProxyContext context, BodyChunk chunk)
    {
        Calls.Enqueue((chunk.Data.Length, chunk.EndOfStream));
        return ValueTask.FromResult(BodyOutcome.Continue);
    }
}

/// <summary>Appends "!" at end of stream: shows the body phase ran exactly once.</summary>
internal sealed class AppendAtEndHandler : IResponseBodyHandler
{
    public string Name => "append";

    public ValueTask<BodyOutcome> OnResponseBodyAsync(ProxyContext context, BodyChunk chunk)
    {
        if (chunk.EndOfStream) chunk.Replace(chunk.Data.ToArray().Append((byte)'!').ToArray());
        return ValueTask.FromResult(BodyOutcome.Continue);
    }
}

/// <summary>Throws in access when <c>X-Throw</c> is sent.</summary>
internal sealed class ThrowingHandler : IAccessHandler
{
    public string Name => "throw";

    public ValueTask<PhaseOutcome> OnAccessAsync(ProxyContext context) =>
        context.HttpContext.Request.Headers.ContainsKey("X-Throw")
            ? throw new InvalidOperationException("handler failure")
            : ValueTask.FromResult(PhaseOutcome.Continue);
}

/// <summary>Throws in the response-headers phase when <c>X-Throw-Headers</c> is sent (after the upstream answered).</summary>
internal sealed class ThrowingHeadersHandler : IResponseHeadersHandler
{
    public string Name => "throw-headers";

    public ValueTask OnResponseHeadersAsync(ProxyContext context) =>
        context.HttpContext.Request.Headers.ContainsKey("X-Throw-Headers") && context.UpstreamStatus is not null
            ? throw new InvalidOperationException("header handler failure")
            : ValueTask.CompletedTask;
}

/// <summary>Copies regex captures into a request header the echo upstream reflects, and records every log phase.</summary>
internal sealed class CaptureAndLogHandler : IAccessHandler, ILogHandler
{
    public ConcurrentQueue<(string Path, int Status, bool HadError)> Logged { get; } = new();
    public string Name => "capture";

    public ValueTask<PhaseOutcome> OnAccessAsync(ProxyContext context)
    {
        var named = string.Join(",", context.Captures.Named.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key}={kv.Value}"));
        context.HttpContext.Request.Headers["X-Captures"] = named + "|" + string.Join(",", context.Captures.Groups);
        context.Shared["seen"] = true;
        return ValueTask.FromResult(PhaseOutcome.Continue);
    }

    public ValueTask OnLogAsync(ProxyContext context)
    {
        Logged.Enqueue((context.HttpContext.Request.Path.Value!, context.HttpContext.Response.StatusCode, context.Error is not null));
        _logged.Release();
        return ValueTask.CompletedTask;
    }

    private readonly SemaphoreSlim _logged = new(0);

    /// <summary>The log phase runs after the answer has reached the client: waits (10 s at most) for a matching entry.</summary>
    public async Task<bool> HasLoggedAsync(Func<(string Path, int Status, bool HadError), bool> match)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!Logged.Any(match))
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || !await _logged.WaitAsync(left)) return Logged.Any(match);
        }
        return true;
    }
}

/// <summary>Answers in rewrite (before routing) for <c>/rewrite-exit</c>.</summary>
internal sealed class RewriteExitHandler : IRewriteHandler
{
    public string Name => "rewrite-exit";

    public ValueTask<PhaseOutcome> OnRewriteAsync(ProxyContext context) =>
        ValueTask.FromResult(context.HttpContext.Request.Path == "/rewrite-exit"
            ? context.Exit(200, "answered in rewrite")
            : PhaseOutcome.Continue);
}

/// <summary>Adds the given handlers to the global plan and to every route's plan.</summary>
internal sealed class TestContributor(params IPhaseHandler[] handlers) : IPhasePlanContributor
{
    public void Contribute(GatewayConfig config, RouteModel? route, ServiceModel? service, PhasePlanBuilder builder)
    {
        foreach (var h in handlers) builder.Add(h);
    }
}
