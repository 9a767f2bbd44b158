namespace Gatehouse.Proxy;

/// <summary>The last upstream URI built for one destination (a service's host, or a balanced peer), reused while the
/// requests to it ask for the same path without a query: a <see cref="Uri"/> costs ~300 bytes per request to build,
/// parse and lay out, and it is immutable and safe to share between concurrent requests. A different path replaces
/// the entry (one small object more than building the URI alone).</summary>
internal sealed class UpstreamUriCache
{
    private static readonly UriCreationOptions AsIs = new() { DangerousDisablePathAndQueryCanonicalization = true };
    private Entry? _last;

    private sealed class Entry(string prefix, string path, Uri uri)
    {
        public readonly string Prefix = prefix;
        public readonly string Path = path;
        public readonly Uri Uri = uri;
    }

    /// <summary>The URI of <paramref name="destinationPrefix"/> + <paramref name="path"/> (no query).</summary>
    public Uri Get(string destinationPrefix, string path)
    {
        var last = Volatile.Read(ref _last);
        if (last is not null && string.Equals(last.Path, path, StringComparison.Ordinal)
            && string.Equals(last.Prefix, destinationPrefix, StringComparison.Ordinal)) return last.Uri;
        var uri = Create(string.Concat(destinationPrefix, path));
        Volatile.Write(ref _last, new Entry(destinationPrefix, path, uri));
        return uri;
    }

    /// <summary>The path is already in wire form and the query is the client's: Uri must not canonicalise them again.</summary>
    public static Uri Create(string absolute) => new(absolute, AsIs);
}
