using System.Text;
using ProxyWasm.Http;

namespace ProxyWasm.Tests;

public sealed class ConcurrencyTests
{
    [Fact]
    public void Shared_data_cas_increments_from_several_vms_on_several_threads_lose_nothing()
    {
        using var t = new TestHost();
        using var plugin = t.Plugin("probe.wat", pool: 4, vmId: "race");
        var guests = plugin.Vms.Select(vm => new Guest(vm, vm.Root)).ToList();
        var key = Encoding.UTF8.GetBytes("counter");
        var keyPtrs = guests.Select(g => g.Write(key)).ToList();
        int zero = guests[0].Write(new byte[4]);
        Assert.Equal(0, guests[0].Call("call_proxy_set_shared_data", keyPtrs[0], key.Length, zero, 4, 0));
        const int perThread = 200;
        int attempts = 0;
        Parallel.For(0, guests.Count, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
        {
            for (int n = 0; n < perThread; n++) Interlocked.Add(ref attempts, guests[i].Call("cas_increment", keyPtrs[i], key.Length));
        });
        int rp = guests[0].Alloc(12);
        Assert.Equal(0, guests[0].Call("call_proxy_get_shared_data", keyPtrs[0], key.Length, rp, rp + 4, rp + 8));
        Assert.Equal((uint)(guests.Count * perThread), BitConverter.ToUInt32(guests[0].Returned(rp, rp + 4)));
        Assert.True(attempts >= guests.Count * perThread);
    }

    [Fact]
    public void A_queue_registered_by_one_plugin_receives_items_from_another_plugins_vm()
    {
        using var t = new TestHost();
        using var consumer = t.Plugin("probe.wat", pool: 1, vmId: "shared-vm", name: "consumer");
        using var producer = t.Plugin("probe.wat", pool: 2, vmId: "shared-vm", name: "producer");
        var c = Guest.Root(consumer);
        int name = c.Write("events"), rp = c.Alloc(4);
        Assert.Equal(0, c.Call("call_proxy_register_shared_queue", name, 6, rp));
        uint token = c.U32(rp);
        Parallel.For(0, 2, i =>
        {
            var p = Guest.Root(producer, i);
            int pn = p.Write("events"), pr = p.Alloc(4), item = p.Write($"item-from-{i}");
            Assert.Equal(0, p.Call("call_proxy_resolve_shared_queue", 0, 0, pn, 6, pr));
            Assert.Equal(token, p.U32(pr));
            Assert.Equal(0, p.Call("call_proxy_enqueue_shared_queue", (int)token, item, 11));
        });
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!(t.Logs.Contains("[consumer#1] item-from-0") && t.Logs.Contains("[consumer#1] item-from-1")) && DateTime.UtcNow < deadline) Thread.Sleep(5);
        Assert.True(t.Logs.Contains("[consumer#1] item-from-0"));
        Assert.True(t.Logs.Contains("[consumer#1] item-from-1"));
    }

    [Fact]
    public async Task Many_concurrent_requests_across_a_pool_all_complete()
    {
        using var t = new TestHost();
        using var plugin = t.Plugin("probe.wat", pool: 3);
        var tasks = Enumerable.Range(0, 60).Select(i => Task.Run(async () =>
        {
            var stream = new InMemoryHttpStream("POST", "/r" + i);
            using var http = plugin.CreateHttpContext(stream);
            Assert.Equal(FilterOutcome.Continue, await http.OnRequestHeadersAsync(false));
            stream.RequestBody.Append(Encoding.UTF8.GetBytes("body" + i));
            Assert.Equal(FilterOutcome.Continue, await http.OnRequestBodyAsync(true));
            await http.OnDoneAsync();
            return Encoding.UTF8.GetString(stream.RequestBody.Span);
        })).ToList();
        var bodies = await Task.WhenAll(tasks);
        Assert.Equal(Enumerable.Range(0, 60).Select(i => $"body{i}!"), bodies);
        Assert.Equal(3, plugin.VmsCreated);
        Assert.All(plugin.Vms, vm => Assert.Equal(1, vm.LiveContextCount)); // only the root remains
    }
}
