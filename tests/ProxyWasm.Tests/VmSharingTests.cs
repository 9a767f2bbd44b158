using ProxyWasm.Contexts;
using ProxyWasm.Http;
using ProxyWasm.Runtime;

namespace ProxyWasm.Tests;

/// <summary>
/// A filter entry's VMs are shared by the contexts of concurrent requests (shared.wat keeps per-context state):
/// contexts are isolated, a trap or deadline fails only the request whose callback it was, the other requests on
/// that VM go on with fresh contexts on a live VM, and pausing requests never deadlock a shared VM.
/// </summary>
public sealed class VmSharingTests
{
    /// <summary>A request whose headers number <paramref name="count"/> (shared.wat acts on the count).</summary>
    private static InMemoryHttpStream Stream(int count)
    {
        var stream = new InMemoryHttpStream();
        for (int i = stream.RequestHeaders.Count; i < count; i++) stream.RequestHeaders.Add("x-h" + i, "v");
        return stream;
    }

    private static string Seen(InMemoryHttpStream stream) => Assert.Single(stream.ResponseHeaders.GetValues("x-seen"));

    [Fact]
    public async Task Contexts_of_concurrent_requests_on_one_vm_keep_their_own_state()
    {
        using var t = new TestHost();
        using var plugin = t.Plugin("shared.wat", pool: 1);
        var (sa, sb) = (Stream(5), Stream(6));
        using var a = await plugin.CreateHttpContextAsync(sa);
        using var b = await plugin.CreateHttpContextAsync(sb);
        Assert.Same(a.Vm, b.Vm);
        Assert.NotEqual(a.ContextId, b.ContextId);
        Assert.Equal(FilterOutcome.Continue, await a.OnRequestHeadersAsync(true));
        Assert.Equal(FilterOutcome.Continue, await b.OnRequestHeadersAsync(true));
        Assert.Equal(FilterOutcome.Continue, await b.OnResponseHeadersAsync(true));
        Assert.Equal(FilterOutcome.Continue, await a.OnResponseHeadersAsync(true));
        Assert.Equal("5", Seen(sa));
        Assert.Equal("6", Seen(sb));
        Assert.Equal(1, plugin.VmsCreated);
    }

    [Theory]
    [InlineData(9, "unreachable")]
    [InlineData(8, "deadline")]
    public async Task A_trap_or_deadline_fails_only_its_request_and_the_others_on_that_vm_go_on_with_fresh_contexts_on_a_new_vm(int kind, string reason)
    {
        using var t = new TestHost();
        var limits = TestHost.Relaxed with { CallDeadline = TimeSpan.FromMilliseconds(50), SlowCallCpuShare = 1 };
        using var plugin = t.Plugin("shared.wat", pool: 1, limits: limits);
        var (sa, sb) = (Stream(5), Stream(6));
        using var a = await plugin.CreateHttpContextAsync(sa);
        using var b = await plugin.CreateHttpContextAsync(sb);
        using var culprit = await plugin.CreateHttpContextAsync(Stream(kind));
        var vm = a.Vm;
        Assert.Same(vm, culprit.Vm);
        Assert.Equal(FilterOutcome.Continue, await a.OnRequestHeadersAsync(true));
        Assert.Equal(FilterOutcome.Continue, await b.OnRequestHeadersAsync(true));

        var failed = await culprit.OnRequestHeadersAsync(true);
        Assert.Equal(FilterOutcomeKind.Failed, failed.Kind);
        Assert.Contains(reason, failed.Error, StringComparison.OrdinalIgnoreCase);
        Assert.True(vm.IsDead);
        Assert.False(a.IsFailed);
        Assert.False(b.IsFailed);

        Assert.Equal(FilterOutcome.Continue, await a.OnResponseHeadersAsync(true));
        Assert.Equal(FilterOutcome.Continue, await b.OnResponseHeadersAsync(true));
        Assert.Equal("0", Seen(sa)); // a fresh context on the new VM: the state of the dead one is gone
        Assert.Equal("0", Seen(sb));
        Assert.NotSame(vm, a.Vm);
        Assert.Same(a.Vm, b.Vm);
        Assert.False(a.Vm.IsDead);
        Assert.Equal(FilterOutcome.Continue, await a.OnDoneAsync());
        Assert.Equal(FilterOutcomeKind.Failed, (await culprit.OnResponseHeadersAsync(true)).Kind); // no more callbacks for it
        Assert.Equal(1, plugin.LiveVmCount);
        Assert.Equal(2, plugin.VmsCreated);
    }

    [Fact]
    public async Task A_request_paused_on_a_vm_that_another_request_kills_fails_by_the_fail_policy()
    {
        var never = new FakeDispatcher(_ => new TaskCompletionSource<HttpCallResponse>().Task);
        using var t = new TestHost(never);
        using var plugin = t.Plugin("shared.wat", pool: 1);
        using var paused = await plugin.CreateHttpContextAsync(Stream(7));
        using var culprit = await plugin.CreateHttpContextAsync(Stream(9));
        var pending = paused.OnRequestHeadersAsync(true);
        Assert.False(pending.IsCompleted);
        Assert.Equal(FilterOutcomeKind.Failed, (await culprit.OnRequestHeadersAsync(true)).Kind);
        // its pending call lived in the dead instance: the phase cannot resume, so it fails (fail closed)
        Assert.Equal(FilterOutcomeKind.Failed, (await pending.AsTask().WaitAsync(TimeSpan.FromSeconds(10))).Kind);
    }

    [Fact]
    public async Task A_vm_killed_between_the_pick_and_the_context_creation_is_replaced_by_a_healthy_one()
    {
        using var t = new TestHost();
        using var plugin = t.Plugin("shared.wat", pool: 1);
        WasmVm? killed = null;
        plugin.BeforeContextCreate = vm =>
        {
            if (killed is not null) return;
            killed = vm;
            // another request traps on the VM just picked for this one
            using var culprit = plugin.CreateHttpContext(Stream(9));
            Assert.Equal(FilterOutcomeKind.Failed, culprit.OnRequestHeadersAsync(true).AsTask().GetAwaiter().GetResult().Kind);
        };
        var stream = Stream(5);
        using var http = await plugin.CreateHttpContextAsync(stream).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.NotNull(killed);
        Assert.True(killed!.IsDead);
        Assert.NotSame(killed, http.Vm);
        Assert.False(http.IsFailed);
        Assert.Equal(FilterOutcome.Continue, await http.OnRequestHeadersAsync(true));
        Assert.Equal(FilterOutcome.Continue, await http.OnResponseHeadersAsync(true));
        Assert.Equal("5", Seen(stream));
    }

    [Fact]
    public async Task Many_concurrent_pausing_and_plain_requests_share_two_vms_without_deadlock()
    {
        var dispatcher = new FakeDispatcher(async _ =>
        {
            await Task.Delay(Random.Shared.Next(1, 5));
            return new HttpCallResponse([KeyValuePair.Create(":status", "200")], default, []);
        });
        using var t = new TestHost(dispatcher);
        using var plugin = t.Plugin("shared.wat", pool: 2);
        var requests = Enumerable.Range(0, 300).Select(i => Task.Run(async () =>
        {
            int kind = i % 2 == 0 ? 7 : 5; // half pause on an HTTP call across callbacks
            var stream = Stream(kind);
            using var http = await plugin.CreateHttpContextAsync(stream);
            Assert.Equal(FilterOutcome.Continue, await http.OnRequestHeadersAsync(true));
            await Task.Yield();
            Assert.Equal(FilterOutcome.Continue, await http.OnResponseHeadersAsync(true));
            Assert.Equal(FilterOutcome.Continue, await http.OnDoneAsync());
            return Seen(stream) == kind.ToString();
        }));
        var results = await Task.WhenAll(requests).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.All(results, Assert.True);
        Assert.Equal(2, plugin.VmsCreated);
        Assert.Equal(2, plugin.LiveVmCount);
        Assert.All(plugin.Vms, vm => Assert.Equal(1, vm.LiveContextCount)); // only the root remains
        Assert.All(plugin.Vms, vm => Assert.Equal(0, vm.Leases));
    }

    [Fact]
    public async Task A_contexts_per_vm_bound_grows_the_entry_by_one_vm_at_a_time_up_to_its_cap_and_idle_vms_above_the_pool_are_shut_down()
    {
        using var t = new TestHost();
        using var plugin = t.Host.CreatePlugin(t.Load("shared.wat"), new FilterPluginConfig
        {
            Name = "shared", PoolSize = 1, ContextsPerVm = 2, MaxPoolSize = 3, Limits = TestHost.Relaxed,
        });
        var open = new List<(HttpFilterContext Http, InMemoryHttpStream Stream, int Kind)>();
        async Task OpenAsync(int kind)
        {
            var stream = Stream(kind);
            var http = await plugin.CreateHttpContextAsync(stream);
            open.Add((http, stream, kind));
            Assert.Equal(FilterOutcome.Continue, await http.OnRequestHeadersAsync(true));
        }
        async Task UntilAsync(Func<bool> condition)
        {
            for (var wait = System.Diagnostics.Stopwatch.StartNew(); !condition(); await Task.Delay(10))
                Assert.True(wait.Elapsed < TimeSpan.FromSeconds(10), "timed out");
        }

        await OpenAsync(5);
        await OpenAsync(6);
        Assert.Equal(1, plugin.LiveVmCount); // two requests: within the bound
        await OpenAsync(5); // the only VM now holds three > 2: one more starts in the background
        await UntilAsync(() => plugin.LiveVmCount == 2);
        var second = plugin.Vms[1];
        await OpenAsync(6);
        await OpenAsync(5);
        Assert.All(open.Skip(3), o => Assert.Same(second, o.Http.Vm)); // the new, least loaded VM takes them
        await OpenAsync(6); // 3 + 3 > 2 each: the third VM
        await UntilAsync(() => plugin.LiveVmCount == 3);
        for (int i = 0; i < 12; i++) await OpenAsync(5 + i % 2);
        await Task.Delay(200); // every VM is over the bound, but the cap is 3: no fourth start is pending
        Assert.Equal(3, plugin.VmsCreated);
        Assert.Equal(3, open.Select(o => o.Http.Vm).Distinct().Count());
        Assert.Equal(18, plugin.Vms.Sum(vm => vm.Leases));

        foreach (var (http, stream, kind) in open)
        {
            Assert.Equal(FilterOutcome.Continue, await http.OnResponseHeadersAsync(true));
            Assert.Equal(kind.ToString(), Seen(stream)); // each context kept its own state on whichever VM it got
        }
        var grown = plugin.Vms;
        foreach (var (http, _, _) in open) http.Dispose();
        await UntilAsync(() => plugin.LiveVmCount == 1); // idle VMs above PoolSize are shut down, never below it
        await UntilAsync(() => grown.Count(vm => vm.IsDead) == 2);
        Assert.Equal(3, plugin.VmsCreated);

        // the survivor still serves, and a new burst grows the entry again
        open.Clear();
        for (int i = 0; i < 3; i++) await OpenAsync(5);
        await UntilAsync(() => plugin.LiveVmCount == 2);
        Assert.Equal(4, plugin.VmsCreated);
        foreach (var (http, _, _) in open) http.Dispose();
    }

    [Theory]
    [InlineData(-1, 0, "ContextsPerVm")]
    [InlineData(0, -1, "MaxPoolSize")]
    public void A_negative_contexts_per_vm_or_vm_cap_is_refused(int contextsPerVm, int maxPoolSize, string field)
    {
        using var t = new TestHost();
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => t.Host.CreatePlugin(t.Load("shared.wat"),
            new FilterPluginConfig { Name = "shared", ContextsPerVm = contextsPerVm, MaxPoolSize = maxPoolSize }));
        Assert.Equal(field, e.ParamName);
    }

    [Fact]
    public async Task The_vm_gate_admits_one_holder_at_a_time_and_waiters_do_not_block_threads()
    {
        var gate = new VmGate();
        long counter = 0;
        int inside = 0, overlaps = 0;
        var workers = Enumerable.Range(0, 64).Select(_ => Task.Run(async () =>
        {
            for (int i = 0; i < 2000; i++)
            {
                await gate.EnterAsync();
                if (Interlocked.Increment(ref inside) != 1) Interlocked.Increment(ref overlaps);
                counter++;
                Interlocked.Decrement(ref inside);
                gate.Exit();
            }
        }));
        await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(0, overlaps);
        Assert.Equal(64 * 2000, counter);
        Assert.True(gate.TryEnter());
        var waiter = gate.EnterAsync();
        Assert.False(waiter.IsCompleted); // waits without a thread
        gate.Exit();
        await waiter.AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        gate.Exit();
    }
}
