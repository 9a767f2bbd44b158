using System.Globalization;
using ProxyWasm.Abi;
using ProxyWasm.Http;
using ProxyWasm.Runtime;

namespace ProxyWasm.Contexts;

/// <summary>
/// Properties the host derives from the stream's header maps when the embedder's provider does not answer
/// (spec §4.2): <c>request.path/url_path/query/method/scheme/host/headers[.name]</c>,
/// <c>response.code/headers[.name]</c>. Everything else is the embedder's (<see cref="IPropertyProvider"/>).
/// </summary>
internal static class BuiltinProperties
{
    public static bool TryGet(IHttpStreamHost host, string path, PropertyEncoding encoding, out ReadOnlyMemory<byte> value)
    {
        value = default;
        switch (path)
        {
            case "request.path": return Header(host.RequestHeaders, ":path", out value);
            case "request.method": return Header(host.RequestHeaders, ":method", out value);
            case "request.scheme": return Header(host.RequestHeaders, ":scheme", out value);
            case "request.host": return Header(host.RequestHeaders, ":authority", out value);
            case "request.url_path" or "request.query":
                if (!host.RequestHeaders.TryGetValue(":path", out var full)) return false;
                int q = full.IndexOf('?', StringComparison.Ordinal);
                var part = path == "request.url_path" ? (q < 0 ? full : full[..q]) : (q < 0 ? "" : full[(q + 1)..]);
                value = PropertyValues.String(part);
                return true;
            case "request.headers": value = PairsCodec.ToArray(host.RequestHeaders.ToList()); return true;
            case "response.headers": value = PairsCodec.ToArray(host.ResponseHeaders.ToList()); return true;
            case "response.code":
                if (!host.ResponseHeaders.TryGetValue(":status", out var status) || !long.TryParse(status, NumberStyles.None, CultureInfo.InvariantCulture, out var code)) return false;
                value = PropertyValues.Int64(code, encoding);
                return true;
        }
        if (path.StartsWith("request.headers.", StringComparison.Ordinal)) return Header(host.RequestHeaders, path["request.headers.".Length..], out value);
        if (path.StartsWith("response.headers.", StringComparison.Ordinal)) return Header(host.ResponseHeaders, path["response.headers.".Length..], out value);
        return false;
    }

    private static bool Header(IHeaderMap map, string name, out ReadOnlyMemory<byte> value)
    {
        if (map.TryGetValue(name, out var v)) { value = PropertyValues.String(v); return true; }
        value = default;
        return false;
    }
}
