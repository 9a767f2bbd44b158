using ProxyWasm.Http;

namespace ProxyWasm.Tests.RealFilters;

/// <summary>
/// The embedder's callout collaborator, answering in-process: known upstreams are the keys of the answer table;
/// each call is recorded. Answers are produced asynchronously (after a yield), like a real HTTP client.
/// </summary>
internal sealed class InProcessDispatcher(IReadOnlyDictionary<string, Func<HttpCallRequest, HttpCallResponse>> upstreams) : IHttpCallDispatcher
{
    private readonly List<HttpCallRequest> _calls = [];

    public IReadOnlyList<HttpCallRequest> Calls
    {
        get { lock (_calls) return _calls.ToList(); }
    }

    public bool IsKnownUpstream(string upstream) => upstreams.ContainsKey(upstream);

    public async Task<HttpCallResponse> SendAsync(HttpCallRequest request, CancellationToken cancellationToken)
    {
        lock (_calls) _calls.Add(request);
        await Task.Yield();
        cancellationToken.ThrowIfCancellationRequested();
        return upstreams[request.Upstream](request);
    }
}
