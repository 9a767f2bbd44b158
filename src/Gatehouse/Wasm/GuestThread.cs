using System.Runtime.CompilerServices;

namespace Gatehouse.Wasm;

/// <summary>
/// Where guest code runs. With <c>inline_io</c> on, requests run on the socket engine's event threads, each serving
/// many connections; a callback that spins to its deadline there would hold every connection of that thread. Fast
/// filters (every callback far under a millisecond) keep running inline — a thread hop per phase would cost the
/// common request more than the filter itself. Once a plugin had a slow callback (<c>FilterPlugin.HasSlowCalls</c>,
/// sticky), <c>await GuestThread.Leave(plugin)</c> before its phases moves the request to the thread pool when it is
/// on a thread that is not a pool thread, where the host also paces the slow callback's CPU. On a pool thread
/// (<c>inline_io</c> off, or a previous phase already moved it) it completes synchronously.
/// </summary>
internal static class GuestThread
{
    public static PoolHop Leave(ProxyWasm.Runtime.FilterPlugin plugin) => new(plugin.HasSlowCalls);

    /// <summary>True when <see cref="Leave"/> would complete at once: the step may call the guest synchronously.</summary>
    public static bool StaysOn(ProxyWasm.Runtime.FilterPlugin plugin) => Leave(plugin).IsCompleted;

    internal readonly struct PoolHop(bool hop) : ICriticalNotifyCompletion
    {
        public PoolHop GetAwaiter() => this;

        public bool IsCompleted => !hop || Thread.CurrentThread.IsThreadPoolThread;

        public void GetResult() { }

        public void OnCompleted(Action continuation) =>
            ThreadPool.QueueUserWorkItem(static c => c(), continuation, preferLocal: false);

        public void UnsafeOnCompleted(Action continuation) =>
            ThreadPool.UnsafeQueueUserWorkItem(static c => c(), continuation, preferLocal: false);
    }
}
