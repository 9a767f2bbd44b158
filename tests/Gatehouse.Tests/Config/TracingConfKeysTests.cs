using Gatehouse.Config;

namespace Gatehouse.Tests.Config;

/// <summary>Kong's tracing_instrumentations and tracing_sampling_rate: defaults, values, refusals naming the key.</summary>
public sealed class TracingConfKeysTests
{
    private static ConfLoadResult Load(string text) => GatehouseConfLoader.LoadText(text, new Dictionary<string, string?>());

    [Fact]
    public void Defaults_are_Kongs()
    {
        var options = Load("").Options!;
        Assert.Equal(["off"], options.TracingInstrumentations);
        Assert.Equal(TracedSteps.None, TracingInstrumentations.Parse(options.TracingInstrumentations));
        Assert.Equal(0.01, options.TracingSamplingRate);
    }

    [Fact]
    public void Values_are_read()
    {
        var options = Load("tracing_instrumentations = router, plugin_access\ntracing_sampling_rate = 0.5").Options!;
        Assert.Equal(TracedSteps.Request | TracedSteps.Router | TracedSteps.PluginAccess, TracingInstrumentations.Parse(options.TracingInstrumentations));
        Assert.Equal(0.5, options.TracingSamplingRate);
        Assert.Equal(TracedSteps.All, TracingInstrumentations.Parse(Load("tracing_instrumentations = all").Options!.TracingInstrumentations));
        Assert.Equal(TracedSteps.Request | TracedSteps.HttpClient | TracedSteps.DnsQuery | TracedSteps.DbQuery,
            TracingInstrumentations.Parse(Load("tracing_instrumentations = http_client, dns_query, db_query").Options!.TracingInstrumentations));
        Assert.True(TracedSteps.All.HasFlag(TracedSteps.HttpClient | TracedSteps.DnsQuery | TracedSteps.DbQuery));
    }

    [Theory]
    [InlineData("tracing_instrumentations = all,db_query", "tracing_instrumentations", "'all' cannot be combined")]
    [InlineData("tracing_instrumentations = nope", "tracing_instrumentations", "invalid tracing type: nope")]
    [InlineData("tracing_sampling_rate = 2", "tracing_sampling_rate", "between 0 and 1")]
    public void Wrong_values_stop_the_start_naming_the_key(string conf, string key, string message)
    {
        var error = Assert.Single(Load(conf).Errors);
        Assert.Contains(key, error);
        Assert.Contains(message, error);
    }
}
