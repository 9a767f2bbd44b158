namespace Gatehouse.Proxy.Pipeline;

/// <summary>The ordered handlers for each phase of one route (or of the global plan), compiled once per
/// configuration snapshot and shared by every request on that route.</summary>
public sealed class PhasePlan
{
    public static PhasePlan Empty { get; } = new([], [], [], [], []);

    public IReadOnlyList<IRewriteHandler> Rewrite { get; }
    public IReadOnlyList<IAccessHandler> Access { get; }
    public IReadOnlyList<IResponseHeadersHandler> ResponseHeaders { get; }
    public IReadOnlyList<IResponseBodyHandler> ResponseBody { get; }
    public IReadOnlyList<ILogHandler> Log { get; }

    public PhasePlan(IRewriteHandler[] rewrite, IAccessHandler[] access, IResponseHeadersHandler[] responseHeaders,
        IResponseBodyHandler[] responseBody, ILogHandler[] log)
    {
        Rewrite = rewrite;
        Access = access;
        ResponseHeaders = responseHeaders;
        ResponseBody = responseBody;
        Log = log;
    }

    public bool HasBodyHandlers => ResponseBody.Count > 0;
}
