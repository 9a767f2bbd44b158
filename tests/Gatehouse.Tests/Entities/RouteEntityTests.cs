using System.Text.Json.Nodes;
using Gatehouse.Entities.Schemas;

namespace Gatehouse.Tests.Entities;

/// <summary>The route model conversion (<see cref="RouteEntity.ToModel"/>): what it shares between routes.</summary>
public sealed class RouteEntityTests
{
    private static JsonObject Row(JsonArray? protocols)
    {
        var row = new JsonObject { ["id"] = Guid.NewGuid().ToString(), ["paths"] = new JsonArray("/a") };
        if (protocols is not null) row["protocols"] = protocols;
        return row;
    }

    /// <summary>Nearly every route has the default protocols: one list for all of them (a list each was 4 MB of a
    /// 100,000-route configuration); any other value is the route's own, in its order.</summary>
    [Fact]
    public void Routes_with_the_default_protocols_share_one_list_and_others_keep_their_own()
    {
        var given = RouteEntity.ToModel(Row(new JsonArray("http", "https")), document: false);
        var defaulted = RouteEntity.ToModel(Row(null), document: false);
        var reversed = RouteEntity.ToModel(Row(new JsonArray("https", "http")), document: false);
        var one = RouteEntity.ToModel(Row(new JsonArray("https")), document: false);
        var grpc = RouteEntity.ToModel(Row(new JsonArray("grpc", "grpcs")), document: false);

        Assert.Equal(["http", "https"], given.Protocols);
        Assert.Same(given.Protocols, defaulted.Protocols);
        Assert.Same(given.Protocols, RouteEntity.ToModel(Row(new JsonArray("http", "https")), document: false).Protocols);
        Assert.Equal(["https", "http"], reversed.Protocols);
        Assert.NotSame(given.Protocols, reversed.Protocols);
        Assert.Equal(["https"], one.Protocols);
        Assert.Equal(["grpc", "grpcs"], grpc.Protocols);
    }
}
