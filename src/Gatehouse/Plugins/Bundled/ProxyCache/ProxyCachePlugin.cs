using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Entities;
using Gatehouse.Proxy.Pipeline;

namespace Gatehouse.Plugins.Bundled.ProxyCache;

/// <summary>Kong's proxy-cache (priority 100), memory strategy: caches cacheable responses by method, path, query
/// and vary headers; answers hits itself. <c>X-Cache-Status</c>: Miss, Hit or Bypass; <c>X-Cache-Key</c>; Age.</summary>
public sealed class ProxyCachePlugin : GatehousePlugin
{
    public override string Name => "proxy-cache";
    public override int Priority => 100;
    public override IReadOnlyList<FieldDefinition> ConfigFields { get; } =
    [
        new FieldDefinition("response_code", FieldType.Array)
        {
            Required = true, LenMin = 1, Default = new JsonArray(200, 301, 404),
            Elements = new FieldDefinition("code", FieldType.Integer) { Between = (100, 900) },
        },
        PluginFields.Strings("request_method", "GET", "HEAD") with { Required = true },
        PluginFields.Strings("content_type", "text/plain", "application/json") with { Required = true },
        PluginFields.Integer("cache_ttl", 300) with { Gt = 0 },
        PluginFields.String("strategy", "memory") with { OneOf = ["memory"] },
        PluginFields.Bool("cache_control", false),
        PluginFields.Bool("ignore_uri_case", false),
        PluginFields.Strings("vary_headers"),
        PluginFields.Strings("vary_query_params"),
        PluginFields.Integer("storage_ttl"),
    ];

    public override PluginHandler Create(JsonObject config, PluginBuildContext context) => new Handler(config, context);

    private sealed class Handler : PluginHandler
    {
        private const string StateKey = "proxy-cache";
        private static readonly HashSet<string> Excluded = new(["X-Cache-Status", "Content-Length", "Transfer-Encoding", "Connection", "Age"], StringComparer.OrdinalIgnoreCase);
        private readonly HashSet<long> _codes;
        private readonly HashSet<string> _methods;
        private readonly IReadOnlyList<string> _types;
        private readonly long _ttl;
        private readonly bool _ignoreCase;
        private readonly IReadOnlyList<string> _varyHeaders;
        private readonly Guid _pluginId;
        private readonly PluginServices _services;

        public Handler(JsonObject config, PluginBuildContext context)
        {
            _codes = [.. (config["response_code"] as JsonArray ?? []).Select(n => n!.GetValue<long>())];
            _methods = [.. ConfigRead.Strings(config, "request_method")];
            _types = ConfigRead.Strings(config, "content_type");
            _ttl = ConfigRead.Long(config, "cache_ttl") ?? 300;
            _ignoreCase = ConfigRead.Bool(config, "ignore_uri_case");
            _varyHeaders = ConfigRead.Strings(config, "vary_headers");
            _pluginId = context.Plugin.Id;
            _services = context.Services;
        }

        private long Now => _services.Time.GetUtcNow().ToUnixTimeSeconds();

        public override ValueTask<PhaseOutcome> AccessAsync(Kong kong)
        {
            if (!_methods.Contains(kong.Request.Method))
            {
                kong.Response.SetHeader("X-Cache-Status", "Bypass", deferred: true);
                return ValueTask.FromResult(PhaseOutcome.Continue);
            }
            var key = Key(kong);
            kong.Response.SetHeader("X-Cache-Key", key, deferred: true);
            if (_services.Cache.Get(key, Now) is { } hit)
            {
                kong.Ctx[StateKey] = new State(key, Hit: true);
                var headers = hit.Headers.Append(new("X-Cache-Status", "Hit"))
                    .Append(new("Age", (Now - hit.StoredAt).ToString(CultureInfo.InvariantCulture))).ToList();
                return ValueTask.FromResult(kong.Response.Exit(new LocalResponse(hit.Status, hit.Body, headers)));
            }
            kong.Ctx[StateKey] = new State(key, Hit: false);
            return ValueTask.FromResult(PhaseOutcome.Continue);
        }

        public override ValueTask HeaderFilterAsync(Kong kong)
        {
            if (!kong.Ctx.TryGetValue(StateKey, out var s) || s is not State { Hit: false } state) return ValueTask.CompletedTask;
            var type = kong.Response.Headers.ContentType.ToString();
            var cacheable = kong.Context.UpstreamStatus is not null && kong.Context.LocalResponse is null
                && _codes.Contains(kong.Response.Status) && _types.Any(t => type.StartsWith(t, StringComparison.OrdinalIgnoreCase));
            kong.Response.SetHeader("X-Cache-Status", cacheable ? "Miss" : "Bypass", deferred: false);
            if (cacheable)
            {
                state.Body = new MemoryStream();
                state.Headers = [.. kong.Response.Headers
                    .Where(h => !Excluded.Contains(h.Key))
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
                    _services.Cache.Set(state.Key, new CachedResponse(kong.Response.Status, state.Headers, body.ToArray(), Now, Now + _ttl));
            }
            return ValueTask.FromResult(BodyOutcome.Continue);
        }

        private string Key(Kong kong)
        {
            var path = _ignoreCase ? kong.Request.Path.ToLowerInvariant() : kong.Request.Path;
            var text = new StringBuilder().Append(_pluginId).Append('|').Append(kong.Request.Method).Append('|').Append(path).Append('|');
            foreach (var q in kong.Request.Query.OrderBy(q => q.Key, StringComparer.Ordinal)) text.Append(q.Key).Append('=').Append(q.Value.ToString()).Append('&');
            foreach (var h in _varyHeaders) text.Append('|').Append(kong.Request.Header(h));
            return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..32];
        }

        private sealed class State(string key, bool Hit)
        {
            public string Key { get; } = key;
            public bool Hit { get; } = Hit;
            public MemoryStream? Body { get; set; }
            public IReadOnlyList<KeyValuePair<string, string>> Headers { get; set; } = [];
        }
    }
}
