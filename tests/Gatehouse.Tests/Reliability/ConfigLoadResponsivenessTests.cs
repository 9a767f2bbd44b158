using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using Gatehouse.Config;
using Gatehouse.Hosting;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Tests.Reliability;

/// <summary>
/// While a big declarative file loads through <c>POST /config</c> on the real host (inline_io on, so requests start
/// on the socket I/O threads), the Admin API keeps answering <c>GET /</c> promptly, and the file loads linearly.
/// </summary>
public sealed class ConfigLoadResponsivenessTests
{
    private static byte[] BigConfig(int services)
    {
        var sb = new StringBuilder("_format_version: \"3.0\"\nservices:\n");
        for (var i = 0; i < services; i++)
        {
            sb.Append($"  - name: svc-{i:D6}\n    url: http://upstream-{i % 50}.internal:8080/v1\n    routes:\n");
            sb.Append($"      - name: route-{i:D6}\n        paths: [/s{i:D6}]\n        hosts: [h{i:D6}.example.test]\n");
            if (i % 10 == 0) sb.Append("    plugins:\n      - name: rate-limiting\n        config: {minute: 100, policy: local}\n");
        }
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    [Fact]
    public async Task Admin_root_answers_while_a_10000_service_config_loads()
    {
        var prefix = Directory.CreateTempSubdirectory("gatehouse-test-").FullName;
        var options = new GatehouseOptions
        {
            Prefix = prefix,
            ProxyListen = [ListenAddress.Parse("127.0.0.1:0")],
            AdminListen = [ListenAddress.Parse("127.0.0.1:0")],
            Database = DatabaseKind.Off,
            LogLevel = "error",
            ProxyAccessLog = null,
        };
        await using var host = GatewayHost.Create(options, new GatewayHostOptions
        {
            ConfigureLogging = l => l.ClearProviders(),
            ShutdownTimeout = TimeSpan.FromSeconds(5),
        });
        await host.StartAsync();
        try
        {
            var admin = host.Addresses(ListenerKind.Admin).Single();
            using var client = new HttpClient { BaseAddress = admin, Timeout = TimeSpan.FromMinutes(5) };
            var body = new ByteArrayContent(BigConfig(10_000));
            body.Headers.ContentType = new MediaTypeHeaderValue("application/x-yaml");

            var post = Stopwatch.StartNew();
            var load = client.PostAsync("/config", body);
            var latencies = new List<TimeSpan>();
            while (!load.IsCompleted)
            {
                // A new connection each time: Kestrel spreads connections over its I/O threads, so some land on
                // the one that read the POST.
                using var probe = new HttpRequestMessage(HttpMethod.Get, "/");
                probe.Headers.ConnectionClose = true;
                var watch = Stopwatch.StartNew();
                using (var answer = await client.SendAsync(probe)) Assert.Equal(200, (int)answer.StatusCode);
                latencies.Add(watch.Elapsed);
                await Task.WhenAny(load, Task.Delay(20));
            }
            using var loaded = await load;
            post.Stop();
            Assert.Equal(201, (int)loaded.StatusCode);
            Assert.True(latencies.Count >= 3, $"only {latencies.Count} probes during a {post.Elapsed} load");
            // Generous, and a ratio: a GET / held behind the load would wait for most of it.
            var slowest = latencies.Max();
            Assert.True(slowest < post.Elapsed * 0.4, $"slowest GET / {slowest.TotalMilliseconds:F0} ms during a {post.Elapsed.TotalMilliseconds:F0} ms load");
            // "Loads in seconds" with a wide margin for a shared 2-core machine (the quadratic loader took minutes).
            Assert.True(post.Elapsed < TimeSpan.FromSeconds(60), $"{post.Elapsed}");
        }
        finally
        {
            await host.StopAsync();
            try { Directory.Delete(prefix, recursive: true); } catch (IOException) { }
        }
    }
}
