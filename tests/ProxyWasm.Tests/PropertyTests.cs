using System.Text;
using ProxyWasm.Http;
using ProxyWasm.Runtime;

namespace ProxyWasm.Tests;

/// <summary>Embedder-supplied properties (request/connection/kong.*) and both encodings, through probe.wat.</summary>
public sealed class PropertyTests
{
    private sealed class Provider(Dictionary<string, Func<PropertyEncoding, byte[]>> values) : IPropertyProvider
    {
        public Dictionary<string, byte[]> Written { get; } = [];

        public bool TryGetProperty(string path, PropertyEncoding encoding, out ReadOnlyMemory<byte> value)
        {
            value = values.TryGetValue(path, out var f) ? f(encoding) : default;
            return values.ContainsKey(path);
        }

        public bool TrySetProperty(string path, ReadOnlySpan<byte> value)
        {
            if (!path.StartsWith("kong.", StringComparison.Ordinal)) return false;
            Written[path] = value.ToArray();
            return true;
        }
    }

    private static byte[] Get(Guest g, string path)
    {
        var bytes = Encoding.UTF8.GetBytes(path);
        int p = g.Write(bytes), rp = g.Alloc(8);
        Assert.Equal(0, g.Call("call_proxy_get_property", p, bytes.Length, rp, rp + 4));
        return g.Returned(rp, rp + 4);
    }

    [Theory]
    [InlineData(PropertyEncoding.Binary)]
    [InlineData(PropertyEncoding.Text)]
    public void Stream_and_plugin_providers_answer_with_the_plugin_encoding(PropertyEncoding encoding)
    {
        using var t = new TestHost();
        var pluginProvider = new Provider(new() { ["kong.node.id"] = _ => PropertyValues.String("node-1") });
        using var plugin = t.Host.CreatePlugin(t.Load("probe.wat"), new FilterPluginConfig { Name = "props", PoolSize = 1, PropertyEncoding = encoding, Properties = pluginProvider });
        var streamProvider = new Provider(new()
        {
            ["source.port"] = e => PropertyValues.Int64(54321, e),
            ["connection.mtls"] = e => PropertyValues.Bool(true, e),
            ["request.time"] = e => PropertyValues.Timestamp(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123), e),
        });
        var stream = new InMemoryHttpStream { Properties = streamProvider };
        stream.ResponseHeaders.Add(":status", "404");
        using var http = plugin.CreateHttpContext(stream);
        var g = Guest.Of(http);
        if (encoding == PropertyEncoding.Binary)
        {
            Assert.Equal(54321L, BitConverter.ToInt64(Get(g, "source\0port")));
            Assert.Equal([1], Get(g, "connection.mtls"));
            Assert.Equal(1_700_000_000_123_000_000L, BitConverter.ToInt64(Get(g, "request\0time")));
            Assert.Equal(404L, BitConverter.ToInt64(Get(g, "response.code")));
        }
        else
        {
            Assert.Equal("54321", Encoding.UTF8.GetString(Get(g, "source.port")));
            Assert.Equal("true", Encoding.UTF8.GetString(Get(g, "connection.mtls")));
            Assert.Equal("1700000000.123", Encoding.UTF8.GetString(Get(g, "request.time")));
            Assert.Equal("404", Encoding.UTF8.GetString(Get(g, "response.code")));
        }
        Assert.Equal("node-1", Encoding.UTF8.GetString(Get(g, "kong\0node\0id")));
        Assert.Equal("node-1", Encoding.UTF8.GetString(Get(Guest.Root(plugin), "kong.node.id"))); // root contexts too
        int path = g.Write("kong.response.status"), value = g.Write("418");
        Assert.Equal(0, g.Call("call_proxy_set_property", path, 20, value, 3));
        Assert.Equal("418", Encoding.UTF8.GetString(streamProvider.Written["kong.response.status"])); // stream provider is asked first
    }

    [Fact]
    public void Request_headers_map_property_uses_the_pairs_encoding()
    {
        using var t = new TestHost();
        using var plugin = t.Plugin("probe.wat");
        var stream = new InMemoryHttpStream(path: "/x");
        using var http = plugin.CreateHttpContext(stream);
        var bytes = Get(Guest.Of(http), "request\0headers");
        var pairs = new List<KeyValuePair<string, string>>();
        Assert.True(Abi.PairsCodec.TryParse(bytes, 1 << 20, 1024, pairs));
        Assert.Contains(KeyValuePair.Create(":path", "/x"), pairs);
    }
}
