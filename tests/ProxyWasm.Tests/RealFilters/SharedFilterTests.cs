using System.Globalization;
using ProxyWasm.Abi;
using ProxyWasm.Http;

namespace ProxyWasm.Tests.RealFilters;

/// <summary><c>filters/test/shared.wasm</c>: shared data with CAS, shared queues, metrics (README "shared").</summary>
public sealed class SharedFilterTests
{
    private const string Shared = "filters/test/shared.wasm";

    [Fact]
    public async Task Concurrent_cas_increments_on_several_vms_never_lose_an_update()
    {
        using var h = new RealFilterHost();
        var a = h.Start(Shared, "", new PluginOptions { Name = "shared-a", PoolSize = 3, VmId = "cas" });
        var b = h.Start(Shared, "", new PluginOptions { Name = "shared-b", PoolSize = 2, VmId = "cas" });
        const int perThread = 15;
        const int threads = 6;
        // Seed the key first: under Envoy CAS semantics (abi doc §5.2) a set on an ABSENT key succeeds whatever the
        // cas, so creating a key cannot be atomic (pw_shared_increment seeds "0" and retries, but two racing seeds
        // can still reset an increment; request-counter seeds in on_configure). From then on every set is a real CAS.
        var seed = await h.SendAsync(a, RequestSpec.Get("/", ("x-shared-incr", "hits")));
        Assert.Equal("1", seed.ResponseHeader("x-shared-incr"));

        var results = await Task.WhenAll(Enumerable.Range(0, threads).Select(t => Task.Run(async () =>
        {
            var values = new List<int>();
            for (int i = 0; i < perThread; i++)
            {
                var x = await h.SendAsync(t % 2 == 0 ? a : b, RequestSpec.Get("/", ("x-shared-incr", "hits")));
                values.Add(int.Parse(x.ResponseHeader("x-shared-incr")!, CultureInfo.InvariantCulture));
            }
            return values;
        })));

        var all = results.SelectMany(v => v).OrderBy(v => v).ToList();
        Assert.Equal(Enumerable.Range(2, threads * perThread), all); // every increment distinct, none lost, none 0
        var check = await h.SendAsync(a, RequestSpec.Get("/", ("x-shared-get", "hits")));
        Assert.Equal("0", check.ResponseHeader("x-shared-status"));
        Assert.Equal((threads * perThread + 1).ToString(CultureInfo.InvariantCulture), check.ResponseHeader("x-shared-value"));
    }

    [Fact]
    public async Task Set_with_a_stale_cas_is_a_mismatch_and_the_current_cas_succeeds()
    {
        using var h = new RealFilterHost();
        var p = h.Start(Shared);
        var set = await h.SendAsync(p, RequestSpec.Get("/", ("x-shared-set", "k=v1")));
        Assert.Equal("0", set.ResponseHeader("x-shared-set-status"));
        var get = await h.SendAsync(p, RequestSpec.Get("/", ("x-shared-get", "k")));
        Assert.Equal("v1", get.ResponseHeader("x-shared-value"));
        string cas = get.ResponseHeader("x-shared-cas")!;
        await h.SendAsync(p, RequestSpec.Get("/", ("x-shared-set", "k=v2"))); // bumps the cas
        var stale = await h.SendAsync(p, RequestSpec.Get("/", ("x-shared-set", "k=v3"), ("x-shared-cas", cas)));
        Assert.Equal("8", stale.ResponseHeader("x-shared-set-status")); // CAS_MISMATCH
        var fresh = await h.SendAsync(p, RequestSpec.Get("/", ("x-shared-get", "k")));
        Assert.Equal("v2", fresh.ResponseHeader("x-shared-value"));
        var ok = await h.SendAsync(p, RequestSpec.Get("/", ("x-shared-set", "k=v4"), ("x-shared-cas", fresh.ResponseHeader("x-shared-cas")!)));
        Assert.Equal("0", ok.ResponseHeader("x-shared-set-status"));
        var missing = await h.SendAsync(p, RequestSpec.Get("/", ("x-shared-get", "absent")));
        Assert.Equal("1", missing.ResponseHeader("x-shared-status")); // NOT_FOUND
        Assert.Null(missing.ResponseHeader("x-shared-value"));
    }

    [Fact]
    public async Task Shared_data_is_scoped_by_vm_id()
    {
        using var h = new RealFilterHost();
        var one = h.Start(Shared, "", new PluginOptions { Name = "one", VmId = "vm-one" });
        var two = h.Start(Shared, "", new PluginOptions { Name = "two", VmId = "vm-two" });
        await h.SendAsync(one, RequestSpec.Get("/", ("x-shared-set", "scoped=1")));
        var other = await h.SendAsync(two, RequestSpec.Get("/", ("x-shared-get", "scoped")));
        Assert.Equal("1", other.ResponseHeader("x-shared-status"));
    }

    [Fact]
    public async Task An_item_enqueued_on_another_vm_wakes_the_owner_with_on_queue_ready()
    {
        using var h = new RealFilterHost();
        h.Start(Shared, """{"queue":"jobs","drain_on_ready":true}""", new PluginOptions { Name = "owner", VmId = "q" });
        var producer = h.Start(Shared, """{"queue":"producer-own"}""", new PluginOptions { Name = "producer", VmId = "q" });
        var registered = Assert.Single(h.Logs.Messages("owner", "queue:registered"));
        Assert.StartsWith("queue:registered name=jobs id=", registered);
        Assert.EndsWith("status=0", registered);

        var resolve = await h.SendAsync(producer, RequestSpec.Get("/", ("x-queue-resolve", "jobs")));
        Assert.Equal("0", resolve.ResponseHeader("x-queue-resolve-status"));
        string id = resolve.ResponseHeader("x-queue-resolved-id")!;
        Assert.Contains($" id={id} ", registered);
        foreach (var item in new[] { "first", "second" })
        {
            var enq = await h.SendAsync(producer, RequestSpec.Get("/", ("x-queue-id", id), ("x-queue-enqueue", item)));
            Assert.Equal("0", enq.ResponseHeader("x-queue-enqueue-status"));
        }

        Assert.True(await RealFilterHost.WaitUntilAsync(() => h.Logs.Messages("owner", "queue_item:").Count >= 2), "owner never drained the queue");
        Assert.Equal(["queue_item:first", "queue_item:second"], h.Logs.Messages("owner", "queue_item:"));
        Assert.Contains($"queue_ready:id={id}", h.Logs.Messages("owner", "queue_ready:"));
        Assert.Empty(h.Logs.Messages("producer", "queue_ready:")); // only the registering root is told
    }

    [Fact]
    public async Task Validating_a_configuration_does_not_take_the_queue_away_from_the_running_owner()
    {
        // The gateway validates every Admin API write on a scratch VM (abi doc §2.2: a canary on a throw-away
        // clone). The scratch VM's proxy_on_configure re-registers the queue; once it is discarded the running
        // owner must still be the one woken by proxy_on_queue_ready (§5.3).
        using var h = new RealFilterHost();
        var ownerOptions = new PluginOptions { Name = "owner", VmId = "q" };
        const string ownerConfig = """{"queue":"jobs","drain_on_ready":true}""";
        h.Start(Shared, ownerConfig, ownerOptions);
        Assert.True(h.Validate(Shared, ownerConfig, ownerOptions).Success);
        var producer = h.Start(Shared, """{"queue":"other"}""", new PluginOptions { Name = "producer", VmId = "q" });

        var resolve = await h.SendAsync(producer, RequestSpec.Get("/", ("x-queue-resolve", "jobs")));
        var enq = await h.SendAsync(producer, RequestSpec.Get("/", ("x-queue-id", resolve.ResponseHeader("x-queue-resolved-id")!), ("x-queue-enqueue", "after-validate")));

        Assert.Equal("0", enq.ResponseHeader("x-queue-enqueue-status"));
        Assert.True(await RealFilterHost.WaitUntilAsync(() => h.Logs.Messages("owner", "queue_item:").Count >= 1, 3000), "the running owner was never told about the item");
    }

    [Fact]
    public async Task Items_are_dequeued_in_order_across_vms_then_the_queue_is_empty()
    {
        using var h = new RealFilterHost();
        var p = h.Start(Shared, """{"queue":"fifo"}""", new PluginOptions { PoolSize = 2 });
        foreach (var item in new[] { "a", "b" }) await h.SendAsync(p, RequestSpec.Get("/", ("x-queue-enqueue", item)));
        var first = await h.SendAsync(p, RequestSpec.Get("/", ("x-queue-dequeue", "1")));
        var second = await h.SendAsync(p, RequestSpec.Get("/", ("x-queue-dequeue", "1")));
        var empty = await h.SendAsync(p, RequestSpec.Get("/", ("x-queue-dequeue", "1")));
        Assert.Equal("a", first.ResponseHeader("x-queue-value"));
        Assert.Equal("b", second.ResponseHeader("x-queue-value"));
        Assert.Equal("7", empty.ResponseHeader("x-queue-dequeue-status")); // EMPTY
        var unknown = await h.SendAsync(p, RequestSpec.Get("/", ("x-queue-resolve", "no-such-queue")));
        Assert.Equal("1", unknown.ResponseHeader("x-queue-resolve-status"));
    }

    [Fact]
    public async Task Metrics_of_every_type_appear_in_the_host_registry()
    {
        using var h = new RealFilterHost();
        var p = h.Start(Shared, """{"metric_prefix":"rt_"}""", new PluginOptions { Name = "metered", PoolSize = 2 });
        var defined = h.Logs.Messages("metered", "metric:defined");
        Assert.Equal(6, defined.Count); // three metrics defined by each of the two VMs
        Assert.All(defined, d => Assert.EndsWith("status=0", d));
        Assert.Equal(3, defined.Distinct().Count()); // both VMs got the same ids: one series per metric
        Assert.StartsWith("metric:defined name=rt_requests_total id=", defined[0]);
        FilterExchange? last = null;
        foreach (var v in new[] { "5", "700", "3" })
        {
            last = await h.SendAsync(p, RequestSpec.Get("/", ("x-metric-record", v)));
            Assert.Equal("0", last.ResponseHeader("x-metric-record-status"));
            Assert.Equal("0", last.ResponseHeader("x-metric-increment-status"));
        }
        Assert.Equal("3", last!.ResponseHeader("x-metric-requests"));
        Assert.Equal("3", last.ResponseHeader("x-metric-gauge"));

        var counter = h.Metric("metered", "rt_requests_total");
        var gauge = h.Metric("metered", "rt_last_value");
        var histogram = h.Metric("metered", "rt_values");
        Assert.Equal((MetricType.Counter, 3L), (counter!.Type, counter.Value));
        Assert.Equal((MetricType.Gauge, 3L), (gauge!.Type, gauge.Value));
        Assert.Equal(MetricType.Histogram, histogram!.Type);
        Assert.Equal(3, histogram.Count);
        Assert.Equal(708, histogram.Value);
        Assert.Equal(3, histogram.Buckets.Sum(b => b.Count));
    }
}
