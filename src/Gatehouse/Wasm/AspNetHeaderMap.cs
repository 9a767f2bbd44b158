using System.Collections;
using Microsoft.AspNetCore.Http;
using ProxyWasm.Http;

namespace Gatehouse.Wasm;

/// <summary>
/// <see cref="IHeaderMap"/> straight over ASP.NET's request or response headers (no copy): what a filter
/// changes is what the upstream (request) or the client (response) gets. Pseudo-headers map to the request
/// line (<c>:method</c>, <c>:path</c>, <c>:authority</c>, <c>:scheme</c>) or the status (<c>:status</c>).
/// </summary>
internal sealed class AspNetHeaderMap : IHeaderMap
{
    private readonly HttpContext _http;
    private readonly bool _response;

    public AspNetHeaderMap(HttpContext http, bool response)
    {
        _http = http;
        _response = response;
    }

    private IHeaderDictionary Headers => _response ? _http.Response.Headers : _http.Request.Headers;

    /// <summary>Response headers are frozen once sent (a filter editing them in on_log gets BadArgument).</summary>
    public bool IsReadOnly => _response && _http.Response.HasStarted;

    /// <summary>Pseudo-headers (fixed per direction) plus one per value; counted without LINQ or iterators since
    /// every headers phase asks for it.</summary>
    public int Count
    {
        get
        {
            var count = _response ? 1 : 4;
            foreach (var h in Headers) count += Math.Max(1, h.Value.Count);
            return count;
        }
    }

    public bool TryGetValue(string name, out string value)
    {
        if (name.StartsWith(':'))
        {
            foreach (var (k, v) in Pseudo()) if (k == name) { value = v; return true; }
            value = "";
            return false;
        }
        if (Headers.TryGetValue(name, out var values) && values.Count > 0) { value = values[0] ?? ""; return true; }
        value = "";
        return false;
    }

    public void Add(string name, string value)
    {
        if (name.StartsWith(':')) { SetPseudo(name, value); return; }
        Headers.Append(name, value);
    }

    public void Replace(string name, string value)
    {
        if (name.StartsWith(':')) { SetPseudo(name, value); return; }
        Headers[name] = value;
    }

    public void Remove(string name)
    {
        if (!name.StartsWith(':')) Headers.Remove(name);
    }

    public void Clear() => Headers.Clear();

    public IEnumerator<KeyValuePair<string, string>> GetEnumerator()
    {
        foreach (var p in Pseudo()) yield return p;
        foreach (var (k, values) in Headers)
            foreach (var v in values) yield return new(k.ToLowerInvariant(), v ?? "");
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private IEnumerable<KeyValuePair<string, string>> Pseudo()
    {
        if (_response)
        {
            yield return new(":status", _http.Response.StatusCode.ToString(System.Globalization.CultureInfo.InvariantCulture));
            yield break;
        }
        var r = _http.Request;
        yield return new(":method", r.Method);
        yield return new(":path", r.PathBase + r.Path + r.QueryString);
        yield return new(":authority", r.Host.Value ?? "");
        yield return new(":scheme", r.Scheme);
    }

    private void SetPseudo(string name, string value)
    {
        if (_response)
        {
            if (name == ":status" && int.TryParse(value, out var status) && !_http.Response.HasStarted) _http.Response.StatusCode = status;
            return;
        }
        var r = _http.Request;
        switch (name)
        {
            case ":method": r.Method = value; break;
            case ":authority": r.Host = new HostString(value); break;
            case ":path":
                var q = value.IndexOf('?');
                r.Path = q < 0 ? value : value[..q];
                r.QueryString = q < 0 ? QueryString.Empty : new QueryString(value[q..]);
                break;
        }
    }
}
