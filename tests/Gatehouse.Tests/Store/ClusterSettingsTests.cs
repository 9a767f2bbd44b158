using Gatehouse.Config;
using Gatehouse.Store;
using Gatehouse.Tests.Admin;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatehouse.Tests.Store;

/// <summary>Kong's <c>db_update_frequency</c> and <c>db_update_propagation</c>, and <c>GET /clustering/status</c> on a
/// store no other node shares. The PostgreSQL behaviour is in <c>ChangeListenerTests</c> and <c>ClusterPropagationTests</c>.</summary>
public sealed class ClusterSettingsTests
{
    private static ConfLoadResult Load(string text) => GatehouseConfLoader.LoadText(text, new Dictionary<string, string?>());

    [Fact]
    public void Db_update_keys_default_to_kongs_and_take_seconds()
    {
        var defaults = Load("").Options!;
        Assert.Equal(TimeSpan.FromSeconds(5), defaults.DbUpdateFrequency);
        Assert.Equal(TimeSpan.Zero, defaults.DbUpdatePropagation);
        var set = Load("db_update_frequency = 0.5\ndb_update_propagation = 2").Options!;
        Assert.Equal(TimeSpan.FromMilliseconds(500), set.DbUpdateFrequency);
        Assert.Equal(TimeSpan.FromSeconds(2), set.DbUpdatePropagation);
    }

    [Theory]
    [InlineData("db_update_frequency = 0")]
    [InlineData("db_update_frequency = -1")]
    [InlineData("db_update_frequency = often")]
    [InlineData("db_update_propagation = -1")]
    public void Bad_values_stop_the_start_naming_the_key(string line)
    {
        var result = Load(line);
        Assert.False(result.IsValid);
        Assert.Contains(result.Errors, e => e.Contains(line.Split(' ')[0], StringComparison.Ordinal));
    }

    /// <summary>A TimeProvider whose timers fire only when the test says so.</summary>
    private sealed class ManualTime : TimeProvider
    {
        private readonly List<(TimerCallback Callback, object? State, TimeSpan Due)> _timers = [];

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            lock (_timers) _timers.Add((callback, state, dueTime));
            return new NoTimer();
        }

        public IReadOnlyList<TimeSpan> Pending { get { lock (_timers) return [.. _timers.Select(t => t.Due)]; } }

        public void FireAll()
        {
            List<(TimerCallback Callback, object? State, TimeSpan Due)> due;
            lock (_timers) { due = [.. _timers]; _timers.Clear(); }
            foreach (var (callback, state, _) in due) callback(state);
        }

        private sealed class NoTimer : ITimer
        {
            public bool Change(TimeSpan dueTime, TimeSpan period) => true;
            public void Dispose() { }
            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
    }

    [Fact]
    public async Task Db_update_propagation_delays_each_reload_by_its_value()
    {
        var propagation = Load("db_update_propagation = 3").Options!.DbUpdatePropagation;
        var time = new ManualTime();
        var reloaded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var queue = new ConfigReloadQueue(_ => { reloaded.TrySetResult(); return Task.CompletedTask; },
            propagation, time, NullLogger.Instance);
        queue.Request();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (time.Pending.Count == 0) await Task.Delay(10, deadline.Token);
        // the reload waits for a 3 s timer and has not run
        Assert.Equal([TimeSpan.FromSeconds(3)], time.Pending);
        Assert.False(reloaded.Task.IsCompleted);
        time.FireAll();
        await reloaded.Task.WaitAsync(deadline.Token);
    }

    [Fact]
    public async Task Clustering_status_on_sqlite_lists_only_this_node_and_the_hash_it_serves()
    {
        using var dir = new TempDir();
        await using var host = await AdminTestHost.StartSqliteAsync(dir.File("g.db"));
        var nodeId = (string)(await host.GetAsync("/")).Body!["node_id"]!;

        var (status, before) = await host.GetAsync("/clustering/status");
        Assert.Equal(200, status);
        var only = Assert.Single(before!.AsObject());
        Assert.Equal(nodeId, only.Key);
        var hash = (string)only.Value!["config_hash"]!;
        Assert.Matches("^[0-9a-f]{32}$", hash);
        Assert.False((bool)only.Value["stale"]!);

        Assert.Equal(201, (await host.PostAsync("/services", new { name = "s", url = "http://127.0.0.1:9/" })).Status);
        var after = (await host.GetAsync("/clustering/status")).Body!;
        Assert.NotEqual(hash, (string)after[nodeId]!["config_hash"]!);
        Assert.Equal(host.Publisher.Current.Version, (long)after[nodeId]!["config_version"]!);
    }
}
