using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Routing;

/// <summary>One route header condition: the request must carry the header with a value equal (ignoring case) to one
/// of the plain values, or matching one of the <c>~*</c> regexes (case-insensitive). Request header values are byte
/// strings (Proxy.HeaderEncoding): plain values are compared as their UTF-8 bytes, as Kong compares, and regexes
/// run on the value read as UTF-8.</summary>
internal sealed class HeaderMatcher
{
    private readonly string _name;
    private readonly string[] _plain;
    private readonly Regex[] _regexes;

    public HeaderMatcher(string name, IReadOnlyList<string> values)
    {
        _name = name;
        _plain = values.Where(v => !v.StartsWith("~*", StringComparison.Ordinal)).Select(ProxyWasm.Http.HeaderBytes.FromText).ToArray();
        _regexes = values.Where(v => v.StartsWith("~*", StringComparison.Ordinal))
            .Select(v => new Regex(v[2..], RoutePaths.Options | RegexOptions.IgnoreCase)).ToArray();
    }

    public bool Matches(IHeaderDictionary headers)
    {
        if (!headers.TryGetValue(_name, out var values)) return false;
        foreach (var value in values)
        {
            if (value is null) continue;
            foreach (var p in _plain)
                if (string.Equals(p, value, StringComparison.OrdinalIgnoreCase)) return true;
            foreach (var r in _regexes)
                if (r.IsMatch(ProxyWasm.Http.HeaderBytes.ToText(value))) return true;
        }
        return false;
    }
}
