using ProxyWasm.Abi;
using Wasmtime;

namespace ProxyWasm.Runtime;

/// <summary>
/// The guest callbacks (spec §1.7), looked up once per instance with typed getters. A missing export or one
/// with an unexpected signature is null and treated as absent (default action), as cpp-host does.
/// </summary>
internal sealed class GuestExports
{
    public GuestExports(Instance instance, AbiVersion abi)
    {
        Allocate = instance.GetFunction<int, int>("malloc") ?? instance.GetFunction<int, int>("proxy_on_memory_allocate");
        Initialize = instance.GetAction("_initialize");
        Main = instance.GetFunction<int, int, int>("main");
        MainVoid = instance.GetFunction<int>("__main_void");
        Start = instance.GetAction("_start");
        OnContextCreate = instance.GetAction<int, int>("proxy_on_context_create");
        OnVmStart = instance.GetFunction<int, int, int>("proxy_on_vm_start");
        OnConfigure = instance.GetFunction<int, int, int>("proxy_on_configure");
        OnTick = instance.GetAction<int>("proxy_on_tick");
        OnQueueReady = instance.GetAction<int, int>("proxy_on_queue_ready");
        if (abi == AbiVersion.V0_1_0)
        {
            OnRequestHeaders01 = instance.GetFunction<int, int, int>("proxy_on_request_headers");
            OnResponseHeaders01 = instance.GetFunction<int, int, int>("proxy_on_response_headers");
        }
        else
        {
            OnRequestHeaders = instance.GetFunction<int, int, int, int>("proxy_on_request_headers");
            OnResponseHeaders = instance.GetFunction<int, int, int, int>("proxy_on_response_headers");
        }
        OnRequestBody = instance.GetFunction<int, int, int, int>("proxy_on_request_body");
        OnResponseBody = instance.GetFunction<int, int, int, int>("proxy_on_response_body");
        OnRequestTrailers = instance.GetFunction<int, int, int>("proxy_on_request_trailers");
        OnResponseTrailers = instance.GetFunction<int, int, int>("proxy_on_response_trailers");
        OnHttpCallResponse = instance.GetAction<int, int, int, int, int>("proxy_on_http_call_response");
        OnDone = instance.GetFunction<int, int>("proxy_on_done");
        OnLog = instance.GetAction<int>("proxy_on_log");
        OnDelete = instance.GetAction<int>("proxy_on_delete");
    }

    /// <summary>Whether the instance has the callback of an HTTP phase (the host calls only those).</summary>
    public bool Exports(Contexts.FilterPhase phase) => phase switch
    {
        Contexts.FilterPhase.RequestHeaders => OnRequestHeaders is not null || OnRequestHeaders01 is not null,
        Contexts.FilterPhase.RequestBody => OnRequestBody is not null,
        Contexts.FilterPhase.RequestTrailers => OnRequestTrailers is not null,
        Contexts.FilterPhase.ResponseHeaders => OnResponseHeaders is not null || OnResponseHeaders01 is not null,
        Contexts.FilterPhase.ResponseBody => OnResponseBody is not null,
        Contexts.FilterPhase.ResponseTrailers => OnResponseTrailers is not null,
        _ => false,
    };

    public Func<int, int>? Allocate { get; }
    public Action? Initialize { get; }
    public Func<int, int, int>? Main { get; }
    public Func<int>? MainVoid { get; }
    public Action? Start { get; }
    public Action<int, int>? OnContextCreate { get; }
    public Func<int, int, int>? OnVmStart { get; }
    public Func<int, int, int>? OnConfigure { get; }
    public Action<int>? OnTick { get; }
    public Action<int, int>? OnQueueReady { get; }
    public Func<int, int, int, int>? OnRequestHeaders { get; }
    public Func<int, int, int>? OnRequestHeaders01 { get; }
    public Func<int, int, int, int>? OnResponseHeaders { get; }
    public Func<int, int, int>? OnResponseHeaders01 { get; }
    public Func<int, int, int, int>? OnRequestBody { get; }
    public Func<int, int, int, int>? OnResponseBody { get; }
    public Func<int, int, int>? OnRequestTrailers { get; }
    public Func<int, int, int>? OnResponseTrailers { get; }
    public Action<int, int, int, int, int>? OnHttpCallResponse { get; }
    public Func<int, int>? OnDone { get; }
    public Action<int>? OnLog { get; }
    public Action<int>? OnDelete { get; }
}
