using Gatehouse.Proxy.Balancing.Health;

namespace Gatehouse.Tests.Proxy.Balancing;

/// <summary>An upstream's stored <c>healthchecks</c> read into the checker's settings, and Kong's rule for when a
/// checker exists.</summary>
public sealed class HealthCheckSettingsJsonTests
{
    [Fact]
    public void Every_field_of_Kongs_record_reaches_the_settings()
    {
        var s = HealthCheckSettingsJson.Parse("""
            {"active":{"type":"https","timeout":2.5,"concurrency":3,"http_path":"/hc","https_sni":"sni.test",
              "https_verify_certificate":false,"headers":{"x-a":["1","2"]},
              "healthy":{"interval":0.5,"http_statuses":[200],"successes":2},
              "unhealthy":{"interval":1,"http_statuses":[500],"tcp_failures":3,"timeouts":4,"http_failures":5}},
             "passive":{"type":"http","healthy":{"http_statuses":[201],"successes":6},
              "unhealthy":{"http_statuses":[502],"tcp_failures":7,"timeouts":8,"http_failures":9}},"threshold":0}
            """);
        Assert.Equal(HealthCheckType.Https, s.Active.Type);
        Assert.Equal(TimeSpan.FromSeconds(2.5), s.Active.Timeout);
        Assert.Equal(3, s.Active.Concurrency);
        Assert.Equal("/hc", s.Active.HttpPath);
        Assert.Equal("sni.test", s.Active.HttpsSni);
        Assert.False(s.Active.HttpsVerifyCertificate);
        Assert.Equal(["1", "2"], s.Active.Headers["x-a"]);
        Assert.Equal((TimeSpan.FromSeconds(0.5), 2), (s.Active.Healthy.Interval, s.Active.Healthy.Successes));
        Assert.Equal([200], s.Active.Healthy.HttpStatuses);
        Assert.Equal((TimeSpan.FromSeconds(1), 3, 4, 5), (s.Active.Unhealthy.Interval, s.Active.Unhealthy.TcpFailures, s.Active.Unhealthy.Timeouts, s.Active.Unhealthy.HttpFailures));
        Assert.Equal([500], s.Active.Unhealthy.HttpStatuses);
        Assert.Equal([201], s.Passive.Healthy.HttpStatuses);
        Assert.Equal(6, s.Passive.Healthy.Successes);
        Assert.Equal([502], s.Passive.Unhealthy.HttpStatuses);
        Assert.Equal((7, 8, 9), (s.Passive.Unhealthy.TcpFailures, s.Passive.Unhealthy.Timeouts, s.Passive.Unhealthy.HttpFailures));
    }

    [Theory]
    [InlineData("""{}""", false)]
    [InlineData("""{"passive":{"healthy":{"successes":3}}}""", false)] // Kong: no checker for successes alone
    [InlineData("""{"active":{"unhealthy":{"interval":1}}}""", true)]
    [InlineData("""{"passive":{"unhealthy":{"timeouts":1}}}""", true)]
    public void A_checker_exists_by_Kongs_rule(string json, bool enabled) =>
        Assert.Equal(enabled, HealthCheckSettingsJson.Parse(json).Enabled);

    [Fact]
    public void Grpc_types_have_no_counterpart() =>
        Assert.Throws<NotSupportedException>(() => HealthCheckSettingsJson.Parse("""{"active":{"type":"grpc"}}"""));
}
