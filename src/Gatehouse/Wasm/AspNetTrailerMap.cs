using System.Collections;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using ProxyWasm.Http;

namespace Gatehouse.Wasm;

/// <summary>
/// <see cref="IHeaderMap"/> over ASP.NET's trailers (no copy). Response trailers: the client's
/// <see cref="IHttpResponseTrailersFeature.Trailers"/>, which the forwarder filled from the upstream's; a filter's
/// edits are what the client gets, until they are sent. Request trailers: <see cref="IHttpRequestTrailersFeature"/>
/// once the body was read; always read-only (writes answer BadArgument), since the upstream client cannot send
/// request trailers. Empty where the protocol carries none (HTTP/1.1 responses).
/// </summary>
internal sealed class AspNetTrailerMap(HttpContext http, bool response) : IHeaderMap
{
    private IHeaderDictionary? Trailers
    {
        get
        {
            if (response) return http.Features.Get<IHttpResponseTrailersFeature>()?.Trailers;
            return http.Features.Get<IHttpRequestTrailersFeature>() is { Available: true } request ? request.Trailers : null;
        }
    }

    public bool IsReadOnly => !response || Trailers is not { IsReadOnly: false };

    public int Count
    {
        get
        {
            var count = 0;
            if (Trailers is { } trailers) foreach (var t in trailers) count += t.Value.Count;
            return count;
        }
    }

    public bool TryGetValue(string name, out string value)
    {
        if (Trailers is { } trailers && trailers.TryGetValue(name, out var values) && values.Count > 0)
        {
            value = values[0] ?? "";
            return true;
        }
        value = "";
        return false;
    }

    // the host checks IsReadOnly before every write; these run only on writable response trailers
    public void Add(string name, string value) => Trailers!.Append(name, value);

    public void Replace(string name, string value) => Trailers![name] = value;

    public void Remove(string name) => Trailers!.Remove(name);

    public void Clear() => Trailers!.Clear();

    public IEnumerator<KeyValuePair<string, string>> GetEnumerator()
    {
        if (Trailers is not { } trailers) yield break;
        foreach (var (k, values) in trailers)
            foreach (var v in values) yield return new(k.ToLowerInvariant(), v ?? "");
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
