namespace Gatehouse.Routing;

/// <summary>
/// Builds the upstream path from service.path (the base) and the request path, as Kong does.
/// v0 (kong/router/utils.lua <c>get_upstream_uri</c>): base and remainder are joined with exactly one slash; a
/// trailing slash on the request is kept. v1 (the traditional router's older rule): base and remainder are
/// concatenated as they are, dropping only a doubled slash. Note that Kong itself treats v1 as v0 under
/// router_flavor traditional_compatible (with a deprecation warning); Gatehouse keeps v1 as documented.
/// </summary>
public static class UpstreamPathBuilder
{
    /// <param name="requestPath">the normalised request path, starting with '/'</param>
    /// <param name="matchedLength">length of the matched path prefix or regex match; -1 when no path matched</param>
    public static string Build(string? servicePath, string requestPath, int matchedLength, bool stripPath, string pathHandling)
    {
        var upstreamBase = string.IsNullOrEmpty(servicePath) ? "/" : servicePath;
        var strip = stripPath && matchedLength >= 0;
        var postfix = strip ? requestPath[matchedLength..] : requestPath.Length > 0 ? requestPath[1..] : "";
        postfix = Sanitize(postfix);
        return pathHandling == "v1"
            ? V1(stripPath, postfix, requestPath, upstreamBase)
            : V0(strip, postfix, requestPath, upstreamBase);
    }

    private static string Sanitize(string postfix)
    {
        if (postfix is "." or "..") return "";
        if (postfix.StartsWith("./", StringComparison.Ordinal)) return postfix[2..];
        if (postfix.StartsWith("../", StringComparison.Ordinal)) return postfix[3..];
        return postfix;
    }

    private static string V0(bool strip, string postfix, string requestPath, string b)
    {
        if (b.EndsWith('/'))
        {
            if (!strip) return b + (requestPath.Length > 0 ? requestPath[1..] : "");
            if (postfix.Length == 0)
                return b == "/" ? "/" : requestPath.EndsWith('/') ? b : b[..^1];
            return postfix[0] == '/' ? b[..^1] + postfix : b + postfix;
        }
        if (!strip) return requestPath == "/" ? b : b + requestPath;
        if (postfix.Length == 0) return requestPath.Length > 1 && requestPath.EndsWith('/') ? b + "/" : b;
        return postfix[0] == '/' ? b + postfix : b + "/" + postfix;
    }

    private static string V1(bool strip, string postfix, string requestPath, string b)
    {
        if (!strip) return b + (requestPath.Length > 0 ? requestPath[1..] : "");
        if (b.EndsWith('/') && postfix.StartsWith('/')) return b[..^1] + postfix;
        return b + postfix;
    }
}
