using Gatehouse.Proxy;

namespace Gatehouse.Tests.Proxy;

/// <summary>service.write_timeout on the upstream stream: each write has its own deadline, kept by one lazily set
/// timer per connection — a stalled write fails with a TimeoutException and the connection is closed; writes that each
/// finish in time never fail, however long the connection lives or idles between them.</summary>
public sealed class UpstreamWriteTimeoutStreamTests
{
    /// <summary>The socket's stream, as far as the writes are concerned: a write completes at once, or stays pending
    /// until released, or fails once the stream is closed (as a socket's pending send does).</summary>
    private sealed class SocketLikeStream : MemoryStream
    {
        private TaskCompletionSource? _pending;
        public bool Stall { get; set; }
        public bool Closed { get; private set; }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct = default)
        {
            ObjectDisposedException.ThrowIf(Closed, this);
            if (!Stall) return ValueTask.CompletedTask;
            _pending = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            ct.Register(() => _pending.TrySetCanceled(ct));
            return new ValueTask(_pending.Task);
        }

        public void Release() => _pending!.TrySetResult();

        protected override void Dispose(bool disposing)
        {
            Closed = true;
            _pending?.TrySetException(new IOException("the socket was closed"));
            base.Dispose(disposing);
        }
    }

    private static readonly byte[] Bytes = [1, 2, 3];

    [Fact]
    public async Task A_stalled_write_times_out_and_closes_the_connection()
    {
        var socket = new SocketLikeStream { Stall = true };
        await using var stream = new UpstreamWriteTimeoutStream(socket, TimeSpan.FromMilliseconds(200));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<TimeoutException>(async () => await stream.WriteAsync(Bytes));
        Assert.InRange(clock.ElapsedMilliseconds, 150, 5_000);
        Assert.Contains("200 ms", e.Message);
        Assert.True(socket.Closed);
    }

    [Fact]
    public async Task Quick_writes_over_many_timeouts_never_time_out_and_a_stall_after_an_idle_spell_still_does()
    {
        var socket = new SocketLikeStream();
        await using var stream = new UpstreamWriteTimeoutStream(socket, TimeSpan.FromMilliseconds(100));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (clock.ElapsedMilliseconds < 450)
        {
            await stream.WriteAsync(Bytes);
            await Task.Delay(20);
        }
        await Task.Delay(300); // idle: the timer fired with no write in progress and is off now
        Assert.False(socket.Closed);
        socket.Stall = true;
        await Assert.ThrowsAsync<TimeoutException>(async () => await stream.WriteAsync(Bytes));
        Assert.True(socket.Closed);
    }

    [Fact]
    public async Task A_write_started_late_in_the_timers_period_gets_its_whole_timeout()
    {
        var socket = new SocketLikeStream();
        await using var stream = new UpstreamWriteTimeoutStream(socket, TimeSpan.FromMilliseconds(400));
        await stream.WriteAsync(Bytes); // sets the timer: due 400 ms from now
        await Task.Delay(250);
        socket.Stall = true;
        var write = stream.WriteAsync(Bytes).AsTask(); // 150 ms before the timer fires; its own deadline is 400 ms away
        await Task.Delay(300); // the timer has fired meanwhile, mid-write
        Assert.False(write.IsCompleted);
        socket.Release();
        await write;
        Assert.False(socket.Closed);
    }

    private static readonly AsyncLocal<object?> RequestState = new();

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static async Task<WeakReference> FirstWriteInARequestAsync(UpstreamWriteTimeoutStream stream)
    {
        var state = new object();
        RequestState.Value = state;
        await stream.WriteAsync(Bytes); // sets the connection's timer
        return new WeakReference(state);
    }

    [Fact]
    public async Task The_connections_timer_does_not_keep_the_first_requests_execution_context()
    {
        await using var stream = new UpstreamWriteTimeoutStream(new SocketLikeStream(), TimeSpan.FromSeconds(30));
        var state = await Task.Run(() => FirstWriteInARequestAsync(stream));
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        Assert.False(state.IsAlive);
    }

    [Fact]
    public async Task The_callers_cancellation_cancels_the_write_as_such()
    {
        var socket = new SocketLikeStream { Stall = true };
        await using var stream = new UpstreamWriteTimeoutStream(socket, TimeSpan.FromSeconds(30));
        using var cts = new CancellationTokenSource(100);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await stream.WriteAsync(Bytes, cts.Token));
    }
}
