using System.Runtime.CompilerServices;

namespace Gatehouse.Wasm;

/// <summary>
/// Where guest code runs: never on a socket I/O thread. With <c>inline_io</c> on, requests run on the socket engine's
/// event threads, each serving many connections; a guest callback that spins to its deadline there would hold every
/// connection of that thread. <c>await GuestThread.Leave()</c> before a filter phase moves the request to the thread
/// pool when (and only when) it is on a thread that is not a pool thread; on a pool thread (<c>inline_io</c> off, or
/// a previous phase already moved it) it costs one property read and completes synchronously.
/// </summary>
internal static class GuestThread
{
    public static PoolHop Leave() => default;

    internal readonly struct PoolHop : ICriticalNotifyCompletion
    {
        public PoolHop GetAwaiter() => this;

        public bool IsCompleted => Thread.CurrentThread.IsThreadPoolThread;

        public void GetResult() { }

        public void OnCompleted(Action continuation) =>
            ThreadPool.QueueUserWorkItem(static c => c(), continuation, preferLocal: false);

        public void UnsafeOnCompleted(Action continuation) =>
            ThreadPool.UnsafeQueueUserWorkItem(static c => c(), continuation, preferLocal: false);
    }
}
