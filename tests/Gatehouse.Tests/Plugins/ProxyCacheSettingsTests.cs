using System.Net;
using Gatehouse.Config;
using Gatehouse.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Tests.Plugins;

/// <summary>proxy-cache settings through the real proxy on a manual clock: cache_control (request and response
/// Cache-Control as Kong), cache_ttl against storage_ttl, vary_query_params, vary_headers, response_headers,
/// memory.dictionary_name, and the memory store's byte bound (mem_cache_size) with least-recently-used eviction.</summary>
public sealed class ProxyCacheSettingsTests : IAsyncLifetime
{
    private readonly ManualTime _time = new(new DateTimeOffset(2030, 1, 1, 10, 0, 0, TimeSpan.Zero));
    private PluginGateway _gw = null!;
    private WebApplication _upstream = null!;
    private int _upstreamHits;

    public async Task InitializeAsync()
    {
        _gw = await PluginGateway.StartAsync(s => s.AddSingleton<TimeProvider>(_time), o => o with { MemCacheSize = 6000 });
        // An upstream whose Cache-Control comes from the query (?cc=...) and whose body counts its requests.
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _upstream = builder.Build();
        _upstream.Run(async http =>
        {
            var n = Interlocked.Increment(ref _upstreamHits);
            if (http.Request.Query["cc"] is { Count: > 0 } cc) http.Response.Headers.CacheControl = cc.ToString();
            http.Response.ContentType = http.Request.Query.ContainsKey("charset") ? "text/plain; charset=utf-8" : "text/plain";
            var size = int.TryParse(http.Request.Query["size"], out var s) ? s : 0;
            await http.Response.WriteAsync(size > 0 ? new string('a', size) : $"response {n}");
        });
        await _upstream.StartAsync();
        await _gw.CreateAsync("/services", new { name = "svc", url = _upstream.Urls.First() });
    }

    public async Task DisposeAsync()
    {
        await _gw.DisposeAsync();
        await _upstream.StopAsync();
        await _upstream.DisposeAsync();
    }

    private async Task RouteAsync(string path, object config)
    {
        var name = path.Trim('/');
        await _gw.CreateAsync("/services/svc/routes", new { name, paths = new[] { path } });
        await _gw.CreateAsync($"/routes/{name}/plugins", new { name = "proxy-cache", config });
    }

    private async Task<(HttpStatusCode Status, string? Cache, string Body)> GetAsync(string path, Action<HttpRequestMessage>? setup = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        setup?.Invoke(request);
        using var response = await _gw.Proxy.SendAsync(request);
        return (response.StatusCode, response.Single("X-Cache-Status"), await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Storage_ttl_keeps_an_entry_past_cache_ttl_which_is_then_refreshed_not_served()
    {
        await RouteAsync("/kept", new { strategy = "memory", content_type = new[] { "text/plain" }, cache_ttl = 10, storage_ttl = 100 });
        await RouteAsync("/plain", new { strategy = "memory", content_type = new[] { "text/plain" }, cache_ttl = 10 });
        Assert.Equal("Miss", (await GetAsync("/kept")).Cache);
        Assert.Equal("Miss", (await GetAsync("/plain")).Cache);
        Assert.Equal("Hit", (await GetAsync("/kept")).Cache);
        _time.Advance(TimeSpan.FromSeconds(11));
        // Kong: stale within storage_ttl is "Refresh" (fetched again); gone after cache_ttl without it is "Miss".
        Assert.Equal("Refresh", (await GetAsync("/kept")).Cache);
        Assert.Equal("Miss", (await GetAsync("/plain")).Cache);
        Assert.Equal("Hit", (await GetAsync("/kept")).Cache);
    }

    [Fact]
    public async Task Cache_control_on_responses_decides_what_is_stored_and_for_how_long()
    {
        await RouteAsync("/cc", new { strategy = "memory", content_type = new[] { "text/plain" }, cache_control = true, cache_ttl = 300 });
        // No max-age or Expires: the resource's TTL is 0, so it is not cached (Kong).
        Assert.Equal("Bypass", (await GetAsync("/cc/none")).Cache);
        Assert.Equal("Bypass", (await GetAsync("/cc/private?cc=private,max-age=60")).Cache);
        Assert.Equal("Bypass", (await GetAsync("/cc/nostore?cc=no-store")).Cache);
        Assert.Equal("Miss", (await GetAsync("/cc/ok?cc=max-age=20")).Cache);
        var hit = await GetAsync("/cc/ok?cc=max-age=20");
        Assert.Equal("Hit", hit.Cache);
        Assert.Equal("response 4", hit.Body);
        // s-maxage wins over max-age; the entry lives for the resource's TTL, not cache_ttl.
        Assert.Equal("Miss", (await GetAsync("/cc/shared?cc=s-maxage=5,max-age=100")).Cache);
        _time.Advance(TimeSpan.FromSeconds(6));
        Assert.Equal("Miss", (await GetAsync("/cc/shared?cc=s-maxage=5,max-age=100")).Cache);
        Assert.Equal("Hit", (await GetAsync("/cc/ok?cc=max-age=20")).Cache);
        _time.Advance(TimeSpan.FromSeconds(15));
        Assert.Equal("Miss", (await GetAsync("/cc/ok?cc=max-age=20")).Cache);
    }

    [Fact]
    public async Task Cache_control_on_requests_bypasses_refreshes_or_insists_on_the_cache()
    {
        await RouteAsync("/rq", new { strategy = "memory", content_type = new[] { "text/plain" }, cache_control = true });
        Assert.Equal("Miss", (await GetAsync("/rq?cc=max-age=100")).Cache);
        Assert.Equal("Bypass", (await GetAsync("/rq?cc=max-age=100", r => r.Headers.Add("Cache-Control", "no-cache"))).Cache);
        Assert.Equal("Bypass", (await GetAsync("/rq?cc=max-age=100", r => r.Headers.Add("Authorization", "Bearer x"))).Cache);
        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal("Hit", (await GetAsync("/rq?cc=max-age=100", r => r.Headers.Add("Cache-Control", "max-age=20"))).Cache);
        Assert.Equal("Refresh", (await GetAsync("/rq?cc=max-age=100", r => r.Headers.Add("Cache-Control", "max-age=5"))).Cache);
        // min-fresh: the stored response (just refreshed, TTL 100) must stay fresh for longer than it will.
        Assert.Equal("Refresh", (await GetAsync("/rq?cc=max-age=100", r => r.Headers.Add("Cache-Control", "min-fresh=200"))).Cache);
        // only-if-cached on something never stored: 504 without going upstream.
        var before = Volatile.Read(ref _upstreamHits);
        var (status, _, _) = await GetAsync("/rq/never", r => r.Headers.Add("Cache-Control", "only-if-cached"));
        Assert.Equal(HttpStatusCode.GatewayTimeout, status);
        Assert.Equal(before, Volatile.Read(ref _upstreamHits));
    }

    [Fact]
    public async Task Vary_query_params_and_vary_headers_choose_the_key()
    {
        await RouteAsync("/vq", new { strategy = "memory", content_type = new[] { "text/plain" }, vary_query_params = new[] { "a" } });
        await RouteAsync("/vh", new { strategy = "memory", content_type = new[] { "text/plain" }, vary_headers = new[] { "X-Lang" } });
        Assert.Equal("Miss", (await GetAsync("/vq?a=1&b=1")).Cache);
        Assert.Equal("Hit", (await GetAsync("/vq?b=2&a=1")).Cache); // b is not part of the key
        Assert.Equal("Miss", (await GetAsync("/vq?a=2&b=1")).Cache);

        Assert.Equal("Miss", (await GetAsync("/vh", r => r.Headers.Add("X-Lang", "en"))).Cache);
        Assert.Equal("Hit", (await GetAsync("/vh", r => r.Headers.Add("X-Lang", "en"))).Cache);
        Assert.Equal("Miss", (await GetAsync("/vh", r => r.Headers.Add("X-Lang", "fr"))).Cache);
        Assert.Equal("Miss", (await GetAsync("/vh")).Cache);
        // Without vary_query_params every argument is part of the key.
        Assert.Equal("Miss", (await GetAsync("/vh?any=1")).Cache);
        Assert.Equal("Hit", (await GetAsync("/vh?any=1")).Cache);
    }

    [Fact]
    public async Task Response_headers_hide_the_diagnostics_unless_kong_debug_and_only_kong_db_cache_exists()
    {
        await RouteAsync("/quiet", new
        {
            strategy = "memory", content_type = new[] { "text/plain" },
            response_headers = new Dictionary<string, bool> { ["age"] = false, ["X-Cache-Status"] = false, ["X-Cache-Key"] = false },
        });
        Assert.Null((await GetAsync("/quiet")).Cache);
        using var hit = await _gw.Proxy.GetAsync("/quiet");
        Assert.Null(hit.Single("X-Cache-Status"));
        Assert.Null(hit.Single("X-Cache-Key"));
        Assert.Null(hit.Single("Age"));
        Assert.Equal("Hit", (await GetAsync("/quiet", r => r.Headers.Add("Kong-Debug", "1"))).Cache);

        var (status, body) = await _gw.PostAsync("/plugins", new { name = "proxy-cache", config = new { strategy = "memory", memory = new { dictionary_name = "my_cache" } } });
        Assert.Equal(400, status);
        Assert.Equal("missing shared dict 'my_cache'", (string?)body!["fields"]!["config"]!["@entity"]![0]);
        var created = await _gw.CreateAsync("/plugins", new { name = "proxy-cache", config = new { strategy = "memory" } });
        Assert.Equal("kong_db_cache", (string?)created["config"]!["memory"]!["dictionary_name"]);
    }

    [Fact]
    public async Task The_memory_store_is_bounded_and_evicts_the_least_recently_used_entry()
    {
        // mem_cache_size = 6000 bytes: two 2000-byte responses fit, a third evicts the least recently used.
        await RouteAsync("/big", new { strategy = "memory", content_type = new[] { "text/plain" } });
        Assert.Equal("Miss", (await GetAsync("/big?size=2000&k=a")).Cache);
        Assert.Equal("Miss", (await GetAsync("/big?size=2000&k=b")).Cache);
        Assert.Equal("Hit", (await GetAsync("/big?size=2000&k=a")).Cache); // a is now more recent than b
        Assert.Equal("Miss", (await GetAsync("/big?size=2000&k=c")).Cache); // evicts b
        Assert.Equal("Hit", (await GetAsync("/big?size=2000&k=a")).Cache);
        Assert.Equal("Hit", (await GetAsync("/big?size=2000&k=c")).Cache);
        Assert.Equal("Miss", (await GetAsync("/big?size=2000&k=b")).Cache);
        // Larger than the whole store: answered, never stored.
        Assert.Equal("Miss", (await GetAsync("/big?size=7000")).Cache);
        Assert.Equal("Miss", (await GetAsync("/big?size=7000")).Cache);
    }

    [Fact]
    public async Task Content_type_matches_type_subtype_and_parameters_exactly()
    {
        // The upstream answers text/plain; charset=utf-8.
        await RouteAsync("/exact", new { strategy = "memory", content_type = new[] { "text/plain" } });
        await RouteAsync("/charset", new { strategy = "memory", content_type = new[] { "Text/Plain; charset=utf-8" } });
        await RouteAsync("/wild", new { strategy = "memory", content_type = new[] { "text/*;charset=utf-8" } });
        Assert.Equal("Bypass", (await GetAsync("/exact?charset=1")).Cache);
        Assert.Equal("Miss", (await GetAsync("/charset?charset=1")).Cache);
        Assert.Equal("Hit", (await GetAsync("/charset?charset=1")).Cache);
        Assert.Equal("Miss", (await GetAsync("/wild?charset=1")).Cache);
    }

    [Fact]
    public void Mem_cache_size_is_read_from_the_conf_and_must_be_above_zero()
    {
        var empty = new Dictionary<string, string?>();
        Assert.Equal(128L * 1024 * 1024, GatehouseConfLoader.LoadText("", empty).Options!.MemCacheSize);
        Assert.Equal(64L * 1024, GatehouseConfLoader.LoadText("mem_cache_size = 64k\n", empty).Options!.MemCacheSize);
        var refused = GatehouseConfLoader.LoadText("mem_cache_size = 0\n", empty);
        Assert.False(refused.IsValid);
        Assert.Contains(refused.Errors, e => e.Contains("mem_cache_size", StringComparison.Ordinal));
    }
}
