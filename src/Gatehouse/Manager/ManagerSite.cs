using System.Collections.Frozen;
using System.Reflection;
using System.Security.Cryptography;
using System.Text.Json;
using Gatehouse.Admin;
using Gatehouse.Config;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.StaticFiles;

namespace Gatehouse.Manager;

/// <summary>
/// Serves the Gatehouse Manager on admin_gui_listen: the single-page application built from <c>manager/</c> and
/// committed under <c>Manager/wwwroot/</c> (embedded in the executable, so nothing is read from disk or the network),
/// its runtime settings as <c>/kconfig.js</c> (Kong Manager's name), and <c>index.html</c> for every other path so the
/// application's own routes survive a reload (SPA fallback). Hashed assets are cached for a year; index.html and
/// kconfig.js are revalidated on every load so a new build or setting shows at once.
/// </summary>
public sealed class ManagerSite
{
    internal const string ResourcePrefix = "manager/";
    internal const string ConfigPath = "/kconfig.js";
    internal const string ContentSecurityPolicy =
        "default-src 'self'; connect-src 'self' http: https:; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

    private sealed record Asset(byte[] Body, string ContentType, string ETag, bool Immutable);

    // read at the first Manager request: a node with admin_gui_listen = off never copies the UI into its heap nor
    // loads the static-files types (issue #16 goal 4)
    private readonly Lazy<FrozenDictionary<string, Asset>> _lazyAssets = new(LoadAssets);
    private FrozenDictionary<string, Asset> Assets => _lazyAssets.Value;
    private readonly GatehouseOptions _options;
    private readonly ManagerBinding _binding;

    public ManagerSite(GatehouseOptions options, ManagerBinding binding)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _binding = binding ?? throw new ArgumentNullException(nameof(binding));
    }

    /// <summary>True when the build embedded an index.html (a build without the UI serves a 503 naming the cause).</summary>
    public bool HasUi => Assets.ContainsKey("/index.html");

    public async Task ServeAsync(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        var request = http.Request;
        var response = http.Response;
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers["Referrer-Policy"] = "no-referrer";
        response.Headers.XFrameOptions = "DENY";
        if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method))
        {
            response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            response.Headers.Allow = "GET, HEAD";
            return;
        }
        var path = request.Path.Value ?? "/";
        if (path == ConfigPath)
        {
            response.Headers.CacheControl = "no-store";
            await WriteAsync(http, RuntimeConfig(request), "text/javascript; charset=utf-8", etag: null);
            return;
        }
        if (!Assets.TryGetValue(path, out var asset))
        {
            // a missing file (a path with an extension, or under /assets/) is a 404; any other path is a page of the app
            if (path.StartsWith("/assets/", StringComparison.Ordinal) || Path.HasExtension(path) || !Assets.TryGetValue("/index.html", out asset))
            {
                response.StatusCode = HasUi ? StatusCodes.Status404NotFound : StatusCodes.Status503ServiceUnavailable;
                response.ContentType = "text/plain; charset=utf-8";
                await response.WriteAsync(HasUi ? "Not found\n" : "This build of Gatehouse has no Manager UI (run manager/build.sh)\n");
                return;
            }
        }
        response.Headers.CacheControl = asset.Immutable ? "public, max-age=31536000, immutable" : "no-cache";
        if (asset.ContentType.StartsWith("text/html", StringComparison.Ordinal))
            response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
        if (request.Headers.IfNoneMatch.ToString() == asset.ETag)
        {
            response.Headers.ETag = asset.ETag;
            response.StatusCode = StatusCodes.Status304NotModified;
            return;
        }
        await WriteAsync(http, asset.Body, asset.ContentType, asset.ETag);
    }

    private static async Task WriteAsync(HttpContext http, byte[] body, string contentType, string? etag)
    {
        var response = http.Response;
        response.ContentType = contentType;
        response.ContentLength = body.Length;
        if (etag is not null) response.Headers.ETag = etag;
        if (!HttpMethods.IsHead(http.Request.Method)) await response.Body.WriteAsync(body);
    }

    /// <summary>Kong Manager's <c>kconfig.js</c>: where the Admin API is and what the page must ask for. The Admin API
    /// defaults to the page's own host on admin_listen's port.</summary>
    private byte[] RuntimeConfig(HttpRequest request)
    {
        var stream = new MemoryStream();
        stream.Write("window.K_CONFIG = "u8);
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            json.WriteString("ADMIN_API_URL", _options.AdminGuiApiUrl?.ToString().TrimEnd('/') ?? "");
            var api = _binding.AdminApiFor(request.Scheme);
            json.WriteString("ADMIN_API_PORT", api is null ? "" : api.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
            json.WriteString("ADMIN_API_SCHEME", api?.Scheme ?? request.Scheme);
            // whether to ask for admin_token before the first call (its value is never sent to the page)
            json.WriteBoolean("ADMIN_TOKEN_REQUIRED", _options.AdminToken is not null);
            json.WriteString("DATABASE", _options.Database.ToString().ToLowerInvariant());
            json.WriteString("GATEHOUSE_VERSION", GatehouseVersion.Current);
            json.WriteEndObject();
        }
        stream.Write(";\n"u8);
        return stream.ToArray();
    }

    private static FrozenDictionary<string, Asset> LoadAssets()
    {
        var assembly = typeof(ManagerSite).Assembly;
        var types = new FileExtensionContentTypeProvider();
        var assets = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames())
        {
            if (!name.StartsWith(ResourcePrefix, StringComparison.Ordinal)) continue;
            using var stream = assembly.GetManifestResourceStream(name)!;
            var body = new byte[stream.Length];
            stream.ReadExactly(body);
            var path = "/" + name[ResourcePrefix.Length..].Replace('\\', '/');
            var type = types.TryGetContentType(path, out var t) ? t : "application/octet-stream";
            if (type.StartsWith("text/", StringComparison.Ordinal) || type is "application/javascript" or "application/json" or "image/svg+xml")
                type = (type == "application/javascript" ? "text/javascript" : type) + "; charset=utf-8";
            var etag = "\"" + Convert.ToHexStringLower(SHA256.HashData(body).AsSpan(0, 12)) + "\"";
            assets[path] = new Asset(body, type, etag, Immutable: path.StartsWith("/assets/", StringComparison.Ordinal));
        }
        return assets.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
