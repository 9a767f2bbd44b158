using ProxyWasm.Contexts;
using ProxyWasm.Http;
using ProxyWasm.Runtime;

namespace ProxyWasm.Tests;

public sealed class FailureTests
{
    [Theory]
    [InlineData("v", "on_vm_start")]
    [InlineData("C", "on_configure")]
    [InlineData("c", "on_configure")]
    public void Root_phase_failures_are_reported_as_validation_errors(string mode, string stage)
    {
        using var t = new TestHost();
        var result = t.Host.Validate(t.Load("trap.wat"), System.Text.Encoding.UTF8.GetBytes(mode));
        Assert.False(result.Success);
        Assert.Equal(stage, result.Stage);
        Assert.Contains("trap", result.Error);
    }

    [Theory]
    [InlineData("h", 0)]
    [InlineData("b", 1)]
    [InlineData("r", 2)]
    [InlineData("s", 3)]
    public async Task A_trap_in_any_http_phase_fails_that_request_only_and_the_next_gets_a_fresh_vm(string mode, int failingPhase)
    {
        using var t = new TestHost();
        using var plugin = t.Plugin("trap.wat", mode);
        var stream = new InMemoryHttpStream();
        using var http = plugin.CreateHttpContext(stream);
        var other = plugin.CreateHttpContext(new InMemoryHttpStream()); // a concurrent request on the same VM
        var vm = http.Vm;
        Assert.Same(vm, other.Vm);
        var outcomes = new List<FilterOutcome>
        {
            await http.OnRequestHeadersAsync(false),
            await http.OnRequestBodyAsync(true),
            await http.OnResponseHeadersAsync(false),
            await http.OnResponseBodyAsync(true),
        };
        Assert.All(outcomes.Take(failingPhase), o => Assert.Equal(FilterOutcome.Continue, o));
        Assert.All(outcomes.Skip(failingPhase), o => Assert.Equal(FilterOutcomeKind.Failed, o.Kind));
        Assert.Contains("unreachable", outcomes[failingPhase].Error);
        Assert.True(http.IsFailed);
        Assert.False(other.IsFailed); // the trap failed only the request whose callback trapped
        if (failingPhase > 0)
        {
            Assert.Equal(FilterOutcome.Continue, await other.OnRequestHeadersAsync(false));
            Assert.NotSame(vm, other.Vm); // on a fresh context of the replacement VM
        }
        other.Dispose();
        using var next = plugin.CreateHttpContext(new InMemoryHttpStream());
        Assert.False(next.IsFailed);
        Assert.False(next.Vm.IsDead);
        Assert.NotSame(vm, next.Vm);
    }

    [Fact]
    public async Task A_trap_storm_never_fails_another_request_and_starts_are_not_capped_by_count()
    {
        // The old guard (60 restarts a minute) left the slots dead afterwards: every request then failed.
        using var t = new TestHost();
        using var trapping = t.Plugin("trap.wat", "h", pool: 2);
        for (int i = 0; i < 150; i++)
        {
            using var http = await trapping.CreateHttpContextAsync(new InMemoryHttpStream());
            var outcome = await http.OnRequestHeadersAsync(true);
            Assert.Equal(FilterOutcomeKind.Failed, outcome.Kind);
            Assert.Contains("unreachable", outcome.Error); // its own trap, never "VM is not running"
        }
        Assert.True(trapping.VmsCreated >= 150);
    }

    [Fact]
    public async Task Concurrent_requests_share_the_pools_vms_with_distinct_contexts_and_no_vm_is_added()
    {
        using var t = new TestHost();
        using var plugin = t.Plugin("trap.wat", "", pool: 2);
        var contexts = new List<HttpFilterContext>();
        for (int i = 0; i < 10; i++) contexts.Add(await plugin.CreateHttpContextAsync(new InMemoryHttpStream()));
        Assert.Equal(2, contexts.Select(c => c.Vm).Distinct().Count());
        Assert.Equal(10, contexts.Select(c => (c.Vm, c.ContextId)).Distinct().Count());
        Assert.All(contexts.GroupBy(c => c.Vm), g => Assert.Equal(5, g.Count())); // the least loaded VM is picked
        Assert.Equal(2, plugin.LiveVmCount);
        Assert.All(contexts, c => Assert.False(c.IsFailed));
        foreach (var c in contexts) c.Dispose();
        Assert.Equal(2, plugin.VmsCreated);
        Assert.All(plugin.Vms, vm => Assert.Equal(1, vm.LiveContextCount)); // only the root remains
    }

    [Fact]
    public void Vm_start_budget_refills_at_its_share_and_says_when_pacing_begins()
    {
        var time = new SteppedTime();
        var budget = new VmStartBudget(0.25, time);
        Assert.True(budget.TryReserve(out _, out _));
        budget.Charge(400_000_000); // a 400 ms start: 150 ms over the 250 ms bucket
        Assert.False(budget.TryReserve(out var wait, out var first));
        Assert.True(first);
        Assert.InRange(wait.TotalMilliseconds, 600, 602); // 150 ms of CPU at 0.25 of a core
        Assert.False(budget.TryReserve(out _, out first));
        Assert.False(first); // logged once per episode
        time.Advance(TimeSpan.FromMilliseconds(601));
        Assert.True(budget.TryReserve(out _, out _));
        time.Advance(TimeSpan.FromHours(1));
        Assert.True(budget.TryReserve(out _, out _));
        budget.Charge(249_000_000);
        Assert.True(budget.TryReserve(out _, out _)); // the bucket holds one second's share, not an hour's
        budget.Charge(2_000_000);
        Assert.False(budget.TryReserve(out _, out _));
    }

    private sealed class SteppedTime : TimeProvider
    {
        private long _ticks;
        public override long TimestampFrequency => TimeSpan.TicksPerSecond;
        public override long GetTimestamp() => _ticks;
        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }

    [Fact]
    public void A_host_call_from_inside_the_allocator_fails_the_vm()
    {
        using var t = new TestHost();
        var wat = """
            (module
              (import "env" "proxy_get_property" (func $get (param i32 i32 i32 i32) (result i32)))
              (import "env" "proxy_done" (func $done (result i32)))
              (memory (export "memory") 1)
              (data (i32.const 100) "plugin_name")
              (func (export "proxy_abi_version_0_2_1"))
              (func (export "malloc") (param i32) (result i32) (drop (call $done)) (i32.const 4096))
              (func (export "get_name") (result i32) (call $get (i32.const 100) (i32.const 11) (i32.const 0) (i32.const 4))))
            """;
        using var plugin = t.Host.CreatePlugin(t.Host.LoadModule("evil", System.Text.Encoding.UTF8.GetBytes(wat)), new FilterPluginConfig { Name = "evil", PoolSize = 1 });
        var guest = Guest.Root(plugin);
        Assert.Null(guest.TryCall("get_name"));
        Assert.Contains("not allowed inside the guest allocator", guest.Vm.DeathReason);
    }

    [Fact]
    public void An_allocator_may_log()
    {
        using var t = new TestHost();
        var wat = """
            (module
              (import "env" "proxy_get_property" (func $get (param i32 i32 i32 i32) (result i32)))
              (import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))
              (memory (export "memory") 1)
              (data (i32.const 100) "plugin_name")
              (data (i32.const 120) "allocating")
              (func (export "proxy_abi_version_0_2_1"))
              (func (export "malloc") (param i32) (result i32) (drop (call $log (i32.const 2) (i32.const 120) (i32.const 10))) (i32.const 4096))
              (func (export "get_name") (result i32) (call $get (i32.const 100) (i32.const 11) (i32.const 0) (i32.const 4))))
            """;
        using var plugin = t.Host.CreatePlugin(t.Host.LoadModule("chatty", System.Text.Encoding.UTF8.GetBytes(wat)), new FilterPluginConfig { Name = "chatty", PoolSize = 1 });
        Assert.Equal(0, Guest.Root(plugin).Call("get_name"));
        Assert.True(t.Logs.Contains("allocating"));
    }

    [Fact]
    public async Task A_trap_in_on_log_is_contained()
    {
        using var t = new TestHost();
        using var plugin = t.Plugin("trap.wat", "l");
        using var http = plugin.CreateHttpContext(new InMemoryHttpStream());
        Assert.Equal(FilterOutcome.Continue, await http.OnRequestHeadersAsync(true));
        Assert.Equal(FilterOutcomeKind.Failed, (await http.OnDoneAsync()).Kind);
        using var next = plugin.CreateHttpContext(new InMemoryHttpStream());
        Assert.Equal(FilterOutcome.Continue, await next.OnRequestHeadersAsync(true));
    }

    [Fact]
    public async Task An_endless_loop_is_stopped_by_the_deadline()
    {
        using var t = new TestHost();
        using var plugin = t.Plugin("trap.wat", "L", limits: new WasmLimits { CallDeadline = TimeSpan.FromMilliseconds(50) });
        using var http = plugin.CreateHttpContext(new InMemoryHttpStream());
        var outcome = await http.OnRequestHeadersAsync(true);
        Assert.Equal(FilterOutcomeKind.Failed, outcome.Kind);
        Assert.Contains("deadline exceeded", outcome.Error);
        Assert.Contains("limit 50 ms", outcome.Error);
    }

    [Fact]
    public async Task A_runaway_callback_on_a_pool_thread_is_paced_and_marks_its_plugin_slow()
    {
        using var t = new TestHost();
        using var fast = t.Plugin("trap.wat", "", name: "fast");
        using (var ok = fast.CreateHttpContext(new InMemoryHttpStream())) await ok.OnRequestHeadersAsync(true);
        Assert.False(fast.HasSlowCalls);

        var limits = new WasmLimits { CallDeadline = TimeSpan.FromMilliseconds(200), SlowCallCpuShare = 0.25 };
        using var plugin = t.Plugin("trap.wat", "L", limits: limits);
        var (outcome, wall) = await Task.Run(async () =>
        {
            using var http = plugin.CreateHttpContext(new InMemoryHttpStream());
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var o = await http.OnRequestHeadersAsync(true);
            return (o, clock.Elapsed);
        });
        Assert.Contains("deadline exceeded", outcome.Error);
        Assert.True(plugin.HasSlowCalls);
        // 50 ms at full speed, then 150 ms of CPU at a quarter of a core: at least ~600 ms of wall time
        if (ThreadCpuClock.IsThreadCpuTime) Assert.True(wall >= TimeSpan.FromMilliseconds(500), $"paced call took only {wall.TotalMilliseconds:0} ms");
    }

    [Fact]
    public async Task An_endless_loop_after_an_idle_second_is_still_stopped()
    {
        // after a second without guest calls the epoch ticker slows to IdleEpochInterval; the first call wakes it up
        using var t = new TestHost();
        using var plugin = t.Plugin("trap.wat", "L", limits: new WasmLimits { CallDeadline = TimeSpan.FromMilliseconds(50) });
        await Task.Delay(TimeSpan.FromMilliseconds(1300));
        using var http = plugin.CreateHttpContext(new InMemoryHttpStream());
        var outcome = await http.OnRequestHeadersAsync(true);
        Assert.Equal(FilterOutcomeKind.Failed, outcome.Kind);
        Assert.Contains("deadline exceeded", outcome.Error);
    }

    [Fact]
    public async Task The_epoch_ticker_ticks_and_disposing_the_host_does_not_wait_out_its_sleep()
    {
        // the ticker sleeps between ticks; Dispose interrupts the sleep (a 30 s idle period must not hold it)
        var host = new WasmHost(new WasmHostOptions
        {
            EpochInterval = TimeSpan.FromMilliseconds(10), IdleEpochInterval = TimeSpan.FromSeconds(30),
        });
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (host.EpochTicks < 3 && DateTime.UtcNow < deadline) await Task.Delay(10);
        Assert.True(host.EpochTicks >= 3, $"only {host.EpochTicks} ticks");
        await Task.Delay(TimeSpan.FromMilliseconds(1200)); // idle: the ticker is now in its 30 s sleep
        var watch = System.Diagnostics.Stopwatch.StartNew();
        host.Dispose();
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"Dispose took {watch.Elapsed.TotalMilliseconds:0} ms");
    }

    [Fact]
    public void The_idle_tick_period_cannot_be_shorter_than_the_busy_one() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new WasmHost(new WasmHostOptions
        {
            EpochInterval = TimeSpan.FromMilliseconds(10), IdleEpochInterval = TimeSpan.FromMilliseconds(5),
        }));

    [Fact]
    public async Task Memory_growth_past_the_limit_is_refused_and_the_guest_trap_is_contained()
    {
        using var t = new TestHost();
        using var plugin = t.Plugin("trap.wat", "M", limits: new WasmLimits { MaxMemoryBytes = 2 * 1024 * 1024 });
        using var http = plugin.CreateHttpContext(new InMemoryHttpStream());
        var outcome = await http.OnRequestHeadersAsync(true);
        Assert.Equal(FilterOutcomeKind.Failed, outcome.Kind);
        Assert.Contains("unreachable", outcome.Error);
        // 64 KiB initial + one 1 MiB step fit in 2 MiB; the second step is refused
        Assert.Equal(1, t.Logs.Messages().Count(m => m.EndsWith("] grew", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task The_memory_limit_is_per_filter()
    {
        using var t = new TestHost();
        using var plugin = t.Plugin("trap.wat", "M", limits: new WasmLimits { MaxMemoryBytes = 5 * 1024 * 1024 });
        using var http = plugin.CreateHttpContext(new InMemoryHttpStream());
        Assert.Equal(FilterOutcomeKind.Failed, (await http.OnRequestHeadersAsync(true)).Kind);
        Assert.Equal(4, t.Logs.Messages().Count(m => m.EndsWith("] grew", StringComparison.Ordinal)));
    }

    [Fact]
    public void A_module_whose_initial_memory_exceeds_the_limit_fails_to_start()
    {
        using var t = new TestHost();
        var module = t.Host.LoadModule("big", "(module (memory (export \"memory\") 40) (func (export \"proxy_abi_version_0_2_1\")) (func (export \"malloc\") (param i32) (result i32) (i32.const 0)))"u8);
        var result = t.Host.Validate(module, new FilterPluginConfig { Name = "big", Limits = new WasmLimits { MaxMemoryBytes = 1024 * 1024 } });
        Assert.False(result.Success);
        Assert.Equal("instantiate", result.Stage);
    }

    [Fact]
    public async Task Fail_open_lets_the_request_pass_through()
    {
        using var t = new TestHost();
        using var plugin = t.Plugin("trap.wat", "h", policy: FailPolicy.FailOpen);
        using var http = plugin.CreateHttpContext(new InMemoryHttpStream());
        Assert.Equal(FilterOutcome.Continue, await http.OnRequestHeadersAsync(true));
        Assert.True(http.IsFailed);
        Assert.Equal(FilterOutcome.Continue, await http.OnResponseHeadersAsync(true));
    }

    [Fact]
    public async Task Proc_exit_in_a_callback_fails_it_whatever_the_code()
    {
        using var t = new TestHost();
        using (var zero = t.Plugin("trap.wat", "x"))
        using (var http = zero.CreateHttpContext(new InMemoryHttpStream()))
        {
            var first = await http.OnRequestHeadersAsync(true);
            Assert.Equal(FilterOutcomeKind.Failed, first.Kind);
            Assert.Contains("proc_exit(0)", first.Error);
            Assert.True(http.IsFailed);
        }
        using var dirty = t.Plugin("trap.wat", "X");
        using var http2 = dirty.CreateHttpContext(new InMemoryHttpStream());
        var outcome = await http2.OnRequestHeadersAsync(true);
        Assert.Equal(FilterOutcomeKind.Failed, outcome.Kind);
        Assert.Contains("proc_exit(3)", outcome.Error);
    }

    [Fact]
    public async Task A_trapping_tick_recycles_the_vm_and_ticks_continue()
    {
        using var t = new TestHost();
        using var plugin = t.Plugin("trap.wat", "t");
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (plugin.VmsCreated < 3 && DateTime.UtcNow < deadline) await Task.Delay(10);
        Assert.True(plugin.VmsCreated >= 3, $"VMs created: {plugin.VmsCreated}");
        Assert.True(t.Logs.Messages().Count(m => m.EndsWith("tick", StringComparison.Ordinal)) >= 4);
        // HTTP traffic still flows; a request may lose the race with a tick that kills its VM, the next one works
        bool served = false;
        for (int i = 0; i < 50 && !served; i++)
        {
            using var http = plugin.CreateHttpContext(new InMemoryHttpStream());
            served = (await http.OnRequestHeadersAsync(true)).Kind == FilterOutcomeKind.Continue;
        }
        Assert.True(served);
    }

    [Fact]
    public async Task A_vm_killed_outside_any_request_callback_moves_its_requests_to_a_live_vm()
    {
        using var t = new TestHost();
        using var plugin = t.Plugin("probe.wat", pool: 2);
        var a = plugin.CreateHttpContext(new InMemoryHttpStream());
        var b = plugin.CreateHttpContext(new InMemoryHttpStream());
        Assert.NotSame(a.Vm, b.Vm);
        var killed = a.Vm;
        killed.Kill("test: simulated trap");
        Assert.Equal(FilterOutcome.Continue, await a.OnRequestHeadersAsync(true)); // no request was at fault
        Assert.NotSame(killed, a.Vm);
        Assert.Equal(FilterOutcome.Continue, await b.OnRequestHeadersAsync(true));
        a.Dispose();
        b.Dispose();
    }
}
