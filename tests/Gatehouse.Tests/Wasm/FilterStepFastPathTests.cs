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
public sealed class FilterStepFastPathTests
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

    private static async Task RunWholeAsync(FilterEntryHandler entry)
    {
        var (context, plan) = Request(entry);
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

    private static (FilterEntryHandler Entry, FilterPlugin Plugin) Entry(WasmHost host, string name)
    {
        var module = host.LoadModule(name, Path.Combine(WasmPaths.Repo, "filters", "test", name + ".wasm"));
        var plugin = host.CreatePlugin(module, new FilterPluginConfig
        {
            Name = name,
            PoolSize = 1,
            Limits = new WasmLimits { CallDeadline = TimeSpan.FromSeconds(5) },
        });
        var entry = new FilterEntryHandler([new SharedFilterPlugin("k", plugin)], 0, new WasmGatewayLimits(), NullLogger.Instance,
            new LogRateLimiter(TimeProvider.System));
        return (entry, plugin);
    }
}
