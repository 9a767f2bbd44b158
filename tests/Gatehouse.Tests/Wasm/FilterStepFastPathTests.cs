using Gatehouse.Proxy.Pipeline;
using Gatehouse.Wasm;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using ProxyWasm.Runtime;
using Xunit;

namespace Gatehouse.Tests.Wasm;

/// <summary>
/// A filter entry's steps call the guest synchronously when its VM is free (the returned task is complete when the
/// step returns: no async frame, no pool hop), and wait for the VM when another request's callback holds it: the
/// callback then runs once the VM is free, in order, and the request still ends on the same VM.
/// </summary>
public sealed class FilterStepFastPathTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public async Task Every_step_of_a_request_completes_synchronously_when_the_VM_is_free()
    {
        using var host = new WasmHost();
        var (entry, plugin) = Entry(host, "noop");
        await RunWholeAsync(entry); // the first request may start the VM
        var vm = Assert.Single(plugin.Vms);

        var (context, plan) = Request(entry);
        var access = PhaseRunner.AccessAsync(plan, context);
        Assert.True(access.IsCompletedSuccessfully);
        Assert.Equal(PhaseOutcome.Continue, await access);
        var frames = new FrameRecorder();
        WasmRequestState.Of(context)!.Contexts[0]!.Observer = frames;
        Assert.True(PhaseRunner.ResponseHeadersAsync(plan, context).IsCompletedSuccessfully);
        var client = new MemoryStream();
        var body = new ResponseBodyFilterStream(client, context, plan) { ExpectedLength = 5 };
        Assert.True(body.WriteAsync("hello"u8.ToArray()).IsCompletedSuccessfully);
        Assert.Equal(5, client.Length);
        Assert.True(PhaseRunner.LogAsync(plan, context, (_, e) => throw e).IsCompletedSuccessfully);
        // the guest was called from the steps' own frames, not from async state machines between them
        Assert.Equal([ProxyWasm.Contexts.FilterCallback.ResponseHeaders, ProxyWasm.Contexts.FilterCallback.ResponseBody, ProxyWasm.Contexts.FilterCallback.Done,
            ProxyWasm.Contexts.FilterCallback.Log, ProxyWasm.Contexts.FilterCallback.Delete], frames.Callbacks);
        Assert.All(frames.AsyncFrames, f => Assert.Empty(f));
        Assert.Null(WasmRequestState.Of(context)!.Contexts[0]); // released: the entry's lease went back
        Assert.Equal(1, vm.LiveContextCount); // only the root context is left on the VM
    }

    [Fact]
    public async Task A_step_whose_VM_is_busy_waits_for_it_then_runs_the_callback_on_it()
    {
        using var host = new WasmHost();
        var (entry, plugin) = Entry(host, "bench-headers");
        await RunWholeAsync(entry);
        var vm = Assert.Single(plugin.Vms);
        var (context, plan) = Request(entry);
        var request = context.HttpContext.Request.Headers;
        var response = context.HttpContext.Response.Headers;

        // another request's callback holds the VM: context creation and on_request_headers wait for it
        Assert.True(vm.Gate.TryEnter());
        var access = PhaseRunner.AccessAsync(plan, context);
        await Task.Delay(50);
        Assert.False(access.IsCompleted);
        Assert.False(request.ContainsKey("x-bench-1"));
        vm.Gate.Exit();
        Assert.Equal(PhaseOutcome.Continue, await access.AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal("1", request["x-bench-1"]);
        var state = WasmRequestState.Of(context)!;
        var http = state.Contexts[0]!;

        Assert.True(vm.Gate.TryEnter());
        var headers = PhaseRunner.ResponseHeadersAsync(plan, context);
        await Task.Delay(50);
        Assert.False(headers.IsCompleted);
        Assert.False(response.ContainsKey("x-bench"));
        vm.Gate.Exit();
        await headers.AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("1", response["x-bench"]);
        Assert.Same(http, state.Contexts[0]);

        Assert.True(vm.Gate.TryEnter());
        var log = PhaseRunner.LogAsync(plan, context, (_, e) => throw e);
        await Task.Delay(50);
        Assert.False(log.IsCompleted);
        Assert.Same(http, state.Contexts[0]); // not released while its on_done waits
        vm.Gate.Exit();
        await log.AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Null(state.Contexts[0]);
        Assert.Equal(1, vm.LiveContextCount); // the root context only: the request's context ended on this VM
        Assert.Same(vm, Assert.Single(plugin.Vms));
    }

    [Fact]
    public async Task A_request_s_filter_state_is_taken_from_its_chain_s_pool_and_given_back_after_its_log_step()
    {
        using var host = new WasmHost();
        var pool = new WasmRequestStatePool(2);
        var (first, plugin) = Entry(host, "noop", pool, index: 0, out var chain);
        var second = new FilterEntryHandler(chain, 1, new WasmGatewayLimits(), NullLogger.Instance, new LogRateLimiter(TimeProvider.System), states: pool);
        var plan = new PhasePlan([], [first, second], [], [first, second], [], [first, second]);
        await RunWholeAsync(plan);
        Assert.Equal(1, pool.IdleCount);

        var context = new ProxyContext(new DefaultHttpContext(), TimeProvider.System) { Plan = plan };
        await PhaseRunner.AccessAsync(plan, context);
        var state = WasmRequestState.Of(context)!;
        Assert.Equal(0, pool.IdleCount); // the idle one, reused
        Assert.Same(context, state.Stream.Context);
        var log = PhaseRunner.LogAsync(plan, context, (_, e) => throw e);
        Assert.True(log.IsCompletedSuccessfully);
        Assert.Equal(1, pool.IdleCount);
        Assert.Null(context.FilterState); // the finished request no longer reaches the state another request may take

        // a context that could not end on the caller's thread (its VM busy with another request's callback) may still
        // run guest code that reads the state: the state is not given back
        context = new ProxyContext(new DefaultHttpContext(), TimeProvider.System) { Plan = plan };
        await PhaseRunner.AccessAsync(plan, context);
        state = WasmRequestState.Of(context)!;
        var vm = Assert.Single(plugin.Vms);
        Assert.True(vm.Gate.TryEnter());
        state.Release(0);
        state.Release(1);
        vm.Gate.Exit();
        Assert.Equal(0, pool.IdleCount);
        Assert.Same(state, context.FilterState);
    }

    [Fact]
    public async Task A_pooled_request_state_allocates_less_per_request()
    {
        using var host = new WasmHost();
        var pool = new WasmRequestStatePool(1);
        var (pooled, _) = Entry(host, "noop", pool, index: 0, out _);
        var (unpooled, _) = Entry(host, "noop");
        var withPool = await OnOneThreadAsync(() => RunWholeAsync(pooled));
        var without = await OnOneThreadAsync(() => RunWholeAsync(unpooled));
        output.WriteLine($"{withPool} B per request with the pool, {without} B without");
        Assert.True(withPool + 200 <= without, $"{withPool} B per request with the pool, {without} B without");
    }

    /// <summary>Bytes <paramref name="request"/> allocates on one thread, after warming up (the least of 5 runs).</summary>
    private static Task<long> OnOneThreadAsync(Func<Task> request) => Task.Run(async () =>
    {
        for (var i = 0; i < 3; i++) await request();
        var least = long.MaxValue;
        for (var i = 0; i < 5; i++)
        {
            var thread = Environment.CurrentManagedThreadId;
            var before = GC.GetAllocatedBytesForCurrentThread();
            await request();
            if (thread == Environment.CurrentManagedThreadId) least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        return least;
    });

    /// <summary>Records, per guest callback, the async state machines of the gateway's steps on the stack below it.</summary>
    private sealed class FrameRecorder : ProxyWasm.Contexts.IFilterCallbackObserver
    {
        public List<ProxyWasm.Contexts.FilterCallback> Callbacks { get; } = [];
        public List<string[]> AsyncFrames { get; } = [];

        public void Started(ProxyWasm.Contexts.FilterCallback callback)
        {
            Callbacks.Add(callback);
            AsyncFrames.Add([.. new System.Diagnostics.StackTrace().GetFrames()
                .Select(f => f.GetMethod())
                .Where(m => m is { Name: "MoveNext", DeclaringType.DeclaringType: { } owner }
                    && (owner == typeof(FilterEntryHandler) || owner == typeof(PhaseRunner) || owner == typeof(BodyFilterChain) || owner == typeof(ResponseBodyFilterStream)))
                .Select(m => m!.DeclaringType!.FullName!)]);
        }

        public void Ended(ProxyWasm.Contexts.FilterCallback callback, ProxyWasm.Contexts.FilterCallbackOutcome outcome, string? error) { }
    }

    private static Task RunWholeAsync(FilterEntryHandler entry) => RunWholeAsync(Request(entry).Plan);

    private static async Task RunWholeAsync(PhasePlan plan)
    {
        var context = new ProxyContext(new DefaultHttpContext(), TimeProvider.System) { Plan = plan };
        Assert.Equal(PhaseOutcome.Continue, await PhaseRunner.AccessAsync(plan, context));
        await PhaseRunner.ResponseHeadersAsync(plan, context);
        await PhaseRunner.LogAsync(plan, context, (_, e) => throw e);
    }

    private static (ProxyContext Context, PhasePlan Plan) Request(FilterEntryHandler entry)
    {
        var http = new DefaultHttpContext();
        http.Request.Method = "GET";
        http.Response.ContentLength = 5;
        var plan = new PhasePlan([], [entry], [], [entry], [new FilterResponseBodyHandler(entry)], [entry]);
        return (new ProxyContext(http, TimeProvider.System) { Plan = plan }, plan);
    }

    private static (FilterEntryHandler Entry, FilterPlugin Plugin) Entry(WasmHost host, string name) => Entry(host, name, null, 0, out _);

    /// <summary>Entry <paramref name="index"/> of a chain of two plugins of <paramref name="name"/> (one when unpooled).</summary>
    private static (FilterEntryHandler Entry, FilterPlugin Plugin) Entry(WasmHost host, string name, WasmRequestStatePool? pool, int index,
        out IReadOnlyList<SharedFilterPlugin> chain)
    {
        var module = host.LoadModule(name, Path.Combine(WasmPaths.Repo, "filters", "test", name + ".wasm"));
        var plugin = host.CreatePlugin(module, new FilterPluginConfig
        {
            Name = name,
            PoolSize = 1,
            Limits = new WasmLimits { CallDeadline = TimeSpan.FromSeconds(5) },
        });
        chain = pool is { Entries: 2 } ? [new SharedFilterPlugin("k", plugin), new SharedFilterPlugin("k2", plugin)] : [new SharedFilterPlugin("k", plugin)];
        var entry = new FilterEntryHandler(chain, index, new WasmGatewayLimits(), NullLogger.Instance, new LogRateLimiter(TimeProvider.System),
            states: pool);
        return (entry, plugin);
    }
}
