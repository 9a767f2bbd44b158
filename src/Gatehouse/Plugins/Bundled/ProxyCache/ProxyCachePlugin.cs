using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Entities;
using Gatehouse.Proxy.Pipeline;
using Microsoft.Extensions.Primitives;

namespace Gatehouse.Plugins.Bundled.ProxyCache;

/// <summary>
/// Kong's proxy-cache (priority 100), memory strategy (<see cref="ProxyCacheStore"/>): caches cacheable responses by
/// route, consumer, method, path, query (all arguments, or <c>vary_query_params</c>) and <c>vary_headers</c>; answers
/// hits itself. With <c>cache_control</c>, request and response Cache-Control are honoured as Kong does (RFC 7234
/// subset, <see cref="CacheControl"/>). <c>X-Cache-Status</c> (Miss, Hit, Refresh, Bypass), <c>X-Cache-Key</c> and
/// <c>Age</c> as <c>response_headers</c> allows (all of them when the request has a <c>Kong-Debug</c> header).
/// </summary>
public sealed class ProxyCachePlugin : GatehousePlugin
{
    /// <summary>The one memory dictionary Gatehouse has (Kong's default <c>memory.dictionary_name</c>).</summary>
    public const string Dictionary = "kong_db_cache";

    public override string Name => "proxy-cache";
    public override int Priority => 100;
    public override IReadOnlyList<FieldDefinition> ConfigFields { get; } =
    [
        new FieldDefinition("response_code", FieldType.Array)
        {
            Required = true, LenMin = 1, Default = new JsonArray(200, 301, 404),
            Elements = new FieldDefinition("code", FieldType.Integer) { Between = (100, 900) },
        },
        PluginFields.Strings("request_method", "GET", "HEAD") with
        {
            Required = true, Elements = new FieldDefinition("method", FieldType.String) { OneOf = ["HEAD", "GET", "POST", "PATCH", "PUT"] },
        },
        PluginFields.Strings("content_type", "text/plain", "application/json") with { Required = true },
        PluginFields.Integer("cache_ttl", 300) with { Gt = 0 },
        PluginFields.String("strategy", "memory") with { OneOf = ["memory"] },
        PluginFields.Bool("cache_control", false),
        PluginFields.Bool("ignore_uri_case", false),
        PluginFields.Integer("storage_ttl"),
        new FieldDefinition("memory", FieldType.Record)
        {
            Required = true, Default = new JsonObject(),
            Fields = [PluginFields.String("dictionary_name", Dictionary)],
        },
        PluginFields.Strings("vary_query_params"),
        PluginFields.Strings("vary_headers"),
        new FieldDefinition("response_headers", FieldType.Record)
        {
            Required = true, Default = new JsonObject(),
            Fields = [PluginFields.Bool("age", true), PluginFields.Bool("X-Cache-Status", true), PluginFields.Bool("X-Cache-Key", true)],
        },
    ];

    /// <summary>Kong checks that the dictionary exists; Gatehouse has only <see cref="Dictionary"/>.</summary>
    public override IReadOnlyList<EntityCheck> ConfigChecks { get; } =
    [
        new CustomEntityCheck(["strategy", "memory"], c =>
            EntityJson.String(c, "strategy") == "memory"
            && ConfigRead.Record(c, "memory") is { } m && ConfigRead.String(m, "dictionary_name") is { } name && name != Dictionary
                ? $"missing shared dict '{name}'"
                : null),
    ];

    public override PluginHandler Create(JsonObject config, PluginBuildContext context) => new ProxyCacheHandler(config, context);
}

internal sealed class ProxyCacheHandler : PluginHandler
{
    private const string StateKey = "proxy-cache";
    // Kong: hop-by-hop headers (and Content-Length) are never replayed, nor a stored rate-limit count.
    private static readonly HashSet<string> NotStored = new(
        ["Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "TE", "Trailers", "Transfer-Encoding", "Upgrade",
         "Content-Length", "Age", "X-Cache-Status", "X-Cache-Key"], StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<long> _codes;
    private readonly HashSet<string> _methods;
    private readonly MediaType[] _types;
    private readonly long _cacheTtl;
    private readonly long? _storageTtl;
    private readonly bool _cacheControl;
    private readonly bool _ignoreCase;
    private readonly IReadOnlyList<string> _varyQuery;
    private readonly IReadOnlyList<string> _varyHeaders;
    private readonly bool _ageHeader, _statusHeader, _keyHeader;
    private readonly PluginServices _services;

    public ProxyCacheHandler(JsonObject config, PluginBuildContext context)
    {
        _codes = [.. (config["response_code"] as JsonArray ?? []).Select(n => n!.GetValue<long>())];
        _methods = [.. ConfigRead.Strings(config, "request_method")];
        _types = [.. ConfigRead.Strings(config, "content_type").Select(MediaType.Parse).OfType<MediaType>()];
        _cacheTtl = ConfigRead.Long(config, "cache_ttl") ?? 300;
        _storageTtl = ConfigRead.Long(config, "storage_ttl");
        _cacheControl = ConfigRead.Bool(config, "cache_control");
        _ignoreCase = ConfigRead.Bool(config, "ignore_uri_case");
        _varyQuery = ConfigRead.Strings(config, "vary_query_params");
        _varyHeaders = ConfigRead.Strings(config, "vary_headers");
        var shown = ConfigRead.Record(config, "response_headers") ?? [];
        _ageHeader = ConfigRead.Bool(shown, "age", true);
        _statusHeader = ConfigRead.Bool(shown, "X-Cache-Status", true);
        _keyHeader = ConfigRead.Bool(shown, "X-Cache-Key", true);
        _services = context.Services;
    }

    private long Now => _services.Time.GetUtcNow().ToUnixTimeSeconds();

    public override ValueTask<PhaseOutcome> AccessAsync(Kong kong) => ValueTask.FromResult(Access(kong));

    private PhaseOutcome Access(Kong kong)
    {
        var debug = kong.Request.Header("Kong-Debug") is not null;
        var cc = _cacheControl ? CacheControl.Parse(kong.Request.Headers.CacheControl) : CacheControl.None;
        // Kong: with cache_control, no-store/no-cache requests and requests with credentials are not cached.
        if (!_methods.Contains(kong.Request.Method)
            || (_cacheControl && (cc.Has("no-store") || cc.Has("no-cache") || kong.Request.Header("Authorization") is not null)))
        {
            if (_statusHeader || debug) kong.Response.SetHeader("X-Cache-Status", "Bypass", deferred: true);
            return PhaseOutcome.Continue;
        }
        var key = Key(kong);
        if (_keyHeader || debug) kong.Response.SetHeader("X-Cache-Key", key, deferred: true);
        var now = Now;
        if (_services.Cache.Get(key, now) is not { } hit)
        {
            // RFC 7234 5.2.1.7: the client wants a stored response or nothing.
            if (_cacheControl && cc.Has("only-if-cached")) return kong.Response.Exit(504);
            return Store(kong, key, "Miss", debug);
        }
        var age = now - hit.StoredAt;
        if (_cacheControl)
        {
            if (cc.Number("max-age") is { } maxAge && age > maxAge) return Store(kong, key, "Refresh", debug);
            if (cc.Number("max-stale") is { } maxStale && age - hit.Ttl > maxStale) return Store(kong, key, "Refresh", debug);
            if (cc.Number("min-fresh") is { } minFresh && hit.Ttl - age < minFresh) return Store(kong, key, "Refresh", debug);
        }
        else if (age > _cacheTtl)
        {
            // Kong: never serve stale data; the entry may be stored longer (storage_ttl).
            return Store(kong, key, "Refresh", debug);
        }
        var headers = new List<KeyValuePair<string, string>>(hit.Headers.Count + 3);
        headers.AddRange(hit.Headers);
        if (_ageHeader || debug) headers.Add(new("Age", age.ToString(CultureInfo.InvariantCulture)));
        if (_statusHeader || debug) headers.Add(new("X-Cache-Status", "Hit"));
        if (_keyHeader || debug) headers.Add(new("X-Cache-Key", key));
        return kong.Response.Exit(new LocalResponse(hit.Status, hit.Body, headers));
    }

    /// <summary>Kong's <c>signal_cache_req</c>: go upstream and store the answer if it is cacheable.</summary>
    private PhaseOutcome Store(Kong kong, string key, string status, bool debug)
    {
        kong.Ctx[StateKey] = new State(key, status, debug);
        return PhaseOutcome.Continue;
    }

    public override ValueTask HeaderFilterAsync(Kong kong)
    {
        if (!kong.Ctx.TryGetValue(StateKey, out var s) || s is not State state) return ValueTask.CompletedTask;
        var response = kong.Response.Headers;
        var cc = _cacheControl ? CacheControl.Parse(response.CacheControl) : CacheControl.None;
        var type = response.ContentType.Count == 1 ? MediaType.Parse(response.ContentType[0]) : null; // Kong: one, parsable
        var cacheable = kong.Context.UpstreamStatus is not null && kong.Context.LocalResponse is null
            && _codes.Contains(kong.Response.Status) && type is not null && _types.Any(t => t.Accepts(type));
        long ttl = _cacheTtl;
        if (cacheable && _cacheControl)
        {
            ttl = cc.ResourceTtl(response.Expires, Now);
            cacheable = !cc.Has("private") && !cc.Has("no-store") && !cc.Has("no-cache") && ttl > 0;
        }
        if (state.ShowStatus || _statusHeader) kong.Response.SetHeader("X-Cache-Status", cacheable ? state.Status : "Bypass", deferred: false);
        if (cacheable)
        {
            state.Ttl = ttl;
            state.Body = new MemoryStream();
            state.Headers = [.. response
                .Where(h => !NotStored.Contains(h.Key) && !h.Key.Contains("ratelimit-remaining", StringComparison.OrdinalIgnoreCase))
                .Select(h => new KeyValuePair<string, string>(h.Key, h.Value.ToString()))];
        }
        return ValueTask.CompletedTask;
    }

    public override ValueTask<BodyOutcome> BodyFilterAsync(Kong kong, BodyChunk chunk)
    {
        if (kong.Ctx.TryGetValue(StateKey, out var s) && s is State { Body: { } body } state)
        {
            body.Write(chunk.Data.Span);
            if (chunk.EndOfStream)
            {
                var now = Now;
                // Kong: storage_ttl, else the resource's TTL (cache_control), else cache_ttl.
                var keep = _storageTtl ?? state.Ttl;
                _services.Cache.Set(state.Key, new CachedResponse(kong.Response.Status, state.Headers, body.ToArray(), now, state.Ttl, now + keep), now);
            }
        }
        return ValueTask.FromResult(BodyOutcome.Continue);
    }

    /// <summary>Kong's <c>build_cache_key</c>: sha256 of prefix (consumer:route, route or "default"), method, path,
    /// the query arguments (all, sorted by name, or the <c>vary_query_params</c> in their order) and the
    /// <c>vary_headers</c>.</summary>
    private string Key(Kong kong)
    {
        var path = _ignoreCase ? kong.Request.Path.ToLowerInvariant() : kong.Request.Path;
        var text = new StringBuilder();
        if (kong.Consumer is { } consumer && kong.Route is { } r) text.Append(consumer.Id).Append(':').Append(r.Id);
        else if (kong.Route is { } route) text.Append(route.Id);
        else text.Append("default");
        text.Append('|').Append(kong.Request.Method).Append('|').Append(path).Append('|');
        var args = QueryArguments.Parse(kong.Context.HttpContext.Request.QueryString.Value);
        Append(text, _varyQuery.Count > 0 ? _varyQuery : [.. args.Keys.Order(StringComparer.Ordinal)], name => args.GetValueOrDefault(name));
        text.Append('|');
        Append(text, _varyHeaders, name => kong.Request.Headers.TryGetValue(name, out var v) && v.Count > 0 ? Values(v) : null);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    private static List<string?> Values(StringValues values) => [.. values];

    /// <summary>Kong's <c>generate_key_from</c>: <c>name=value</c> (several values sorted and joined with ","), a bare
    /// <c>name</c> for a valueless argument, absent names skipped, parts joined with ":".</summary>
    private static void Append(StringBuilder text, IReadOnlyList<string> names, Func<string, List<string?>?> lookup)
    {
        var first = true;
        foreach (var name in names)
        {
            if (lookup(name) is not { Count: > 0 } values) continue;
            if (!first) text.Append(':');
            first = false;
            text.Append(name);
            if (values.Count == 1 && values[0] is null) continue; // ?flag
            values.Sort(StringComparer.Ordinal);
            text.Append('=').AppendJoin(',', values.Select(v => v ?? ""));
        }
    }

    private sealed class State(string key, string status, bool showStatus)
    {
        public string Key { get; } = key;
        public string Status { get; } = status;
        public bool ShowStatus { get; } = showStatus;
        public long Ttl { get; set; }
        public MemoryStream? Body { get; set; }
        public IReadOnlyList<KeyValuePair<string, string>> Headers { get; set; } = [];
    }
}
