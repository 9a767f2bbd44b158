using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Store;

/// <summary>
/// Coalesces requests to re-read the configuration: at most one reload runs and at most one waits, however many
/// requests arrive (a burst of 1,000 changes on another node costs this node a few full reloads, not 1,000). A request
/// made while a reload runs is served by the next one, which reads everything committed by then.
/// </summary>
public sealed partial class ConfigReloadQueue : IAsyncDisposable
{
    private readonly Channel<bool> _pending = Channel.CreateBounded<bool>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
    private readonly Func<CancellationToken, Task> _reload;
    private readonly TimeSpan _delay;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private long _completed;

    /// <param name="reload">Reads and publishes the configuration.</param>
    /// <param name="delay">Waited before each reload (Kong's <c>db_update_propagation</c>).</param>
    public ConfigReloadQueue(Func<CancellationToken, Task> reload, TimeSpan delay, TimeProvider time, ILogger logger)
    {
        _reload = reload ?? throw new ArgumentNullException(nameof(reload));
        _delay = delay;
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Reloads that have finished (successfully or not).</summary>
    public long Completed => Interlocked.Read(ref _completed);

    /// <summary>Asks for a reload that starts after this call; never blocks.</summary>
    public void Request() => _pending.Writer.TryWrite(true);

    private async Task RunAsync()
    {
        try
        {
            while (await _pending.Reader.WaitToReadAsync(_stop.Token))
            {
                _pending.Reader.TryRead(out _);
                if (_delay > TimeSpan.Zero) await Task.Delay(_delay, _time, _stop.Token);
                try { await _reload(_stop.Token); }
                catch (Exception e) when (e is not OperationCanceledException || !_stop.IsCancellationRequested)
                {
                    // the next request (a later event, the next poll or reconnect) tries again
                    LogReloadFailed(e);
                }
                Interlocked.Increment(ref _completed);
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested) { }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _pending.Writer.TryComplete();
        await _loop;
        _stop.Dispose();
    }

    [LoggerMessage(EventId = 2111, Level = LogLevel.Error, Message = "reloading the configuration from the database failed")]
    private partial void LogReloadFailed(Exception error);
}
