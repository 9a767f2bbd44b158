using System.Text.Json.Nodes;
using Gatehouse.Tests.Store;

namespace Gatehouse.Tests.Admin;

public class PagingAndTagsTests : AdminStoreTests
{
    [Fact]
    public async Task Pages_through_250_services_without_duplicates()
    {
        var created = new HashSet<string>();
        for (var i = 0; i < 250; i++)
            created.Add((string)(await _host.PostAsync("/services", new { name = $"s{i}", host = "h.test" })).Body!["id"]!);

        var seen = new List<string>();
        string? next = "/services?size=100";
        var pages = 0;
        while (next is not null)
        {
            var (status, body) = await _host.GetAsync(next);
            Assert.Equal(200, status);
            pages++;
            seen.AddRange(body!["data"]!.AsArray().Select(e => (string)e!["id"]!));
            next = (string?)body["next"];
            if (next is not null)
            {
                Assert.Contains("size=100", next);
                Assert.Equal(body["offset"]!.ToString(), Uri.UnescapeDataString(next.Split("offset=")[1].Split('&')[0]));
            }
        }
        Assert.Equal(3, pages);
        Assert.Equal(250, seen.Count);
        Assert.Equal(created.Order(), seen.Order());
        Assert.Equal(seen.Order(StringComparer.Ordinal), seen);

        var (_, defaultPage) = await _host.GetAsync("/services");
        Assert.Equal(100, defaultPage!["data"]!.AsArray().Count);
    }

    [Fact]
    public async Task Empty_collection_and_bad_paging_options()
    {
        var (_, empty) = await _host.GetAsync("/services");
        Assert.Equal("""{"data":[],"next":null}""", empty!.ToJsonString());

        var (s1, b1) = await _host.GetAsync("/services?size=abc");
        Assert.Equal(400, s1);
        Assert.Equal("""{"code":9,"name":"invalid size","message":"size must be a number"}""", b1!.ToJsonString());
        var (s2, b2) = await _host.GetAsync("/services?size=1001");
        Assert.Equal(400, s2);
        Assert.Equal("size must be an integer between 1 and 1000", (string?)b2!["message"]);
        var (s3, b3) = await _host.GetAsync("/services?offset=%%%");
        Assert.Equal(400, s3);
        Assert.Equal(7, (int)b3!["code"]!);
        var (s4, b4) = await _host.GetAsync("/services?tags=");
        Assert.Equal(400, s4);
        Assert.Equal(11, (int)b4!["code"]!);
        Assert.Equal("cannot be null", (string?)b4["fields"]!["tags"]);
    }

    [Fact]
    public async Task Tags_filters_and_or()
    {
        await _host.PostAsync("/services", new { name = "ab", host = "h.test", tags = new[] { "a", "b" } });
        await _host.PostAsync("/services", new { name = "a", host = "h.test", tags = new[] { "a" } });
        await _host.PostAsync("/services", new { name = "c", host = "h.test", tags = new[] { "c" } });
        await _host.PostAsync("/services", new { name = "none", host = "h.test" });

        Assert.Equal(["ab"], await Names("/services?tags=a,b"));
        Assert.Equal(["a", "ab"], await Names("/services?tags=a"));
        Assert.Equal(["a", "ab", "c"], await Names("/services?tags=a/c"));
        Assert.Empty(await Names("/services?tags=zzz"));
        Assert.Equal(400, (await _host.GetAsync("/services?tags=a,b/c")).Status);
    }

    [Fact]
    public async Task Next_link_keeps_tags()
    {
        for (var i = 0; i < 3; i++) await _host.PostAsync("/services", new { name = $"t{i}", host = "h.test", tags = new[] { "x" } });
        var (_, page) = await _host.GetAsync("/services?tags=x&size=2");
        var next = (string)page!["next"]!;
        Assert.Contains("tags=x", next);
        var (_, second) = await _host.GetAsync(next);
        Assert.Single(second!["data"]!.AsArray());
        Assert.Null(second["next"]);
    }

    private async Task<List<string>> Names(string path)
    {
        var (status, body) = await _host.GetAsync(path);
        Assert.Equal(200, status);
        return [.. body!["data"]!.AsArray().Select(e => (string)e!["name"]!).Order(StringComparer.Ordinal)];
    }
}

/// <summary>Every test of <see cref="PagingAndTagsTests"/> on PostgreSQL.</summary>
public sealed class PagingAndTagsTestsOnPostgres : PagingAndTagsTests
{
    private protected override AdminStore Store => AdminStore.Postgres;
}
