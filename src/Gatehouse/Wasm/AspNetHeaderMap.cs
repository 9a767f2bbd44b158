using System.Buffers;
using System.Collections;
using Gatehouse.Proxy.Pipeline;
using Gatehouse.Routing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using ProxyWasm.Http;

namespace Gatehouse.Wasm;

/// <summary>
/// <see cref="IHeaderMap"/> straight over ASP.NET's request or response headers (no copy): what a filter
/// changes is what the upstream (request) or the client (response) gets. Pseudo-headers map to the request
/// line (<c>:method</c>, <c>:path</c>, <c>:authority</c>, <c>:scheme</c>) or the status (<c>:status</c>).
/// On a proxied request <c>:path</c> reads the normalised request path (what the router matched) with the query, and
/// a write replaces the path and query sent upstream, as ngx_wasm_module does (it sets nginx's <c>$uri</c> and
/// <c>$args</c>): the value is sent as written (escaped where the request line needs it), without the route's
/// strip_path or the service path; an empty path part keeps the path, no '?' keeps the query and a bare '?' drops it.
/// Values are byte strings (<see cref="HeaderBytes"/>): Kestrel decodes header bytes one char per byte
/// (<see cref="Proxy.HeaderEncoding"/>); only <c>:path</c>, which the gateway holds as text, is converted.
/// </summary>
internal sealed class AspNetHeaderMap : IHeaderMap
{
    private HttpContext _http = null!;
    private bool _response;
    private ProxyContext? _proxy;
    // Count is asked by every filter's headers callback, so the count is cached, dropped by this map's own edits (the dictionary may store an edit
    // otherwise than asked, e.g. drop a lone empty value) and recomputed when the number of distinct names (O(1) in
    // Kestrel) shows that someone else changed the headers. A value appended behind the map's back to a name it
    // already has goes unseen until the next edit: Count is only num_headers; the pairs a filter reads are always
    // serialised from the enumeration (PairsCodec).
    private int _count = -1;
    private int _namesAtCount;

    /// <param name="proxy">the proxied request whose upstream target a <c>:path</c> write changes; without it (a bare
    /// HttpContext) <c>:path</c> is ASP.NET's Path and QueryString</param>
    public AspNetHeaderMap(HttpContext http, bool response, ProxyContext? proxy = null) => Begin(http, response, proxy);

    /// <summary>A map not over any request yet (<see cref="Begin"/> points it at one; kept by a pooled stream host).</summary>
    internal AspNetHeaderMap() { }

    /// <summary>Serves <paramref name="http"/>'s headers from now on (the cached count is the previous request's: dropped).</summary>
    internal void Begin(HttpContext http, bool response, ProxyContext? proxy = null)
    {
        _http = http;
        _response = response;
        _proxy = proxy;
        _count = -1;
        _namesAtCount = 0;
    }

    /// <summary>Drops the request (its HttpContext is Kestrel's to reuse).</summary>
    internal void End()
    {
        _http = null!;
        _proxy = null;
        _count = -1;
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
            var headers = Headers;
            if (_count >= 0 && headers.Count == _namesAtCount) return _count;
            // one pair per value, as enumerated; read through CopyTo into a pooled array, since enumerating through
            // the interface boxes Kestrel's enumerators (two objects per map and request)
            var names = headers.Count;
            var count = PseudoCount;
            var pairs = ArrayPool<KeyValuePair<string, StringValues>>.Shared.Rent(names);
            try
            {
                headers.CopyTo(pairs, 0);
                for (var i = 0; i < names; i++) count += pairs[i].Value.Count;
            }
            finally { ArrayPool<KeyValuePair<string, StringValues>>.Shared.Return(pairs, clearArray: true); }
            _namesAtCount = names;
            return _count = count;
        }
    }

    private int PseudoCount => _response ? 1 : 4;

    /// <summary>This map changed the headers: count afresh when next asked.</summary>
    private void Edited() => _count = -1;

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
        Edited();
    }

    public void Replace(string name, string value)
    {
        if (name.StartsWith(':')) { SetPseudo(name, value); return; }
        Headers[name] = value;
        Edited();
    }

    public void Remove(string name)
    {
        Edited();
        if (name.StartsWith(':')) return;
        Headers.Remove(name);
    }

    public void Clear()
    {
        Headers.Clear();
        Edited();
    }

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
        yield return new(":path", HeaderBytes.FromText(_proxy?.RequestPath is { } path ? path + r.QueryString.Value : (r.PathBase + r.Path + r.QueryString).ToString()));
        // the Host header as sent: HostString decodes "xn--" labels and throws on invalid ones
        yield return new(":authority", r.Headers.Host.ToString());
        yield return new(":scheme", r.Scheme);
    }

    private void SetPath(HttpRequest r, string value)
    {
        var q = value.IndexOf('?');
        var path = q < 0 ? value : value[..q];
        // as ngx_wasm_module: no '?' keeps the query, a bare '?' drops it
        if (q >= 0) r.QueryString = q == value.Length - 1 ? QueryString.Empty : new QueryString(value[q..]);
        if (!path.StartsWith('/')) return;
        if (_proxy is null)
        {
            r.Path = path;
            return;
        }
        _proxy.RequestPath = path;
        _proxy.UpstreamPath = UriNormalizer.Escape(path);
    }

    private void SetPseudo(string name, string value)
    {
        Edited(); // :authority writes the Host header; any edit counts afresh
        if (_response)
        {
            if (name == ":status" && int.TryParse(value, out var status) && !_http.Response.HasStarted) _http.Response.StatusCode = status;
            return;
        }
        var r = _http.Request;
        switch (name)
        {
            case ":method": r.Method = value; break;
            case ":authority": r.Headers.Host = value; break; // as given (HostString would IDN-encode, and throw)
            case ":path":
                SetPath(r, HeaderBytes.ToText(value));
                break;
        }
    }
}
