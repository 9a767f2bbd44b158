using Gatehouse.Config;
using Gatehouse.Store;
using Gatehouse.Store.Postgres;
using Gatehouse.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Gatehouse.Tests.Store.Postgres;

/// <summary>
/// How a node hears of other nodes' changes (<see cref="PostgresChangeListener"/>, <see cref="PostgresClusterEvents"/>)
/// and how reloads are coalesced (<see cref="ConfigReloadQueue"/>), on a real PostgreSQL server. The two-process tests
/// are in <c>ClusterPropagationTests</c>.
/// </summary>
public sealed class ChangeListenerTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    /// <summary>Counts reloads; a test waits for the count to reach a number.</summary>
    private sealed class ReloadCounter
    {
        private int _count;
        private readonly SemaphoreSlim _changed = new(0);

        public int Count => Volatile.Read(ref _count);

        public Task ReloadAsync(CancellationToken ct)
        {
            Interlocked.Increment(ref _count);
            _changed.Release();
            return Task.CompletedTask;
        }

        public async Task WaitForAsync(int count, string what)
        {
            using var deadline = new CancellationTokenSource(Patience);
            while (Count < count)
            {
                try { await _changed.WaitAsync(deadline.Token); }
                catch (OperationCanceledException) { Assert.Fail($"{what}: {Count} reloads, expected {count}"); }
            }
        }
    }

    private static PostgresChangeListener Listener(PostgresOptions options, Guid node, TimeSpan frequency, ReloadCounter counter) =>
        new(new PostgresConnections(options), node, frequency, TimeSpan.Zero, counter.ReloadAsync, TimeProvider.System,
            NullLogger<PostgresChangeListener>.Instance);

    private static PostgresClusterEvents Announcer(PostgresOptions options) =>
        new(new PostgresConnections(options), new AdminNodeInfo(new GatehouseOptions { NodeId = Guid.NewGuid() }));

    [Fact]
    public async Task Another_nodes_change_reaches_the_listener_by_notify_without_waiting_for_a_poll()
    {
        var options = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync();
        var counter = new ReloadCounter();
        // polling once an hour: only the notification can bring the change within the test's patience
        var listener = Listener(options, Guid.NewGuid(), TimeSpan.FromHours(1), counter);
        await listener.StartAsync(CancellationToken.None);
        try
        {
            await counter.WaitForAsync(1, "the reload that follows LISTEN"); // LISTEN is in place once it ran
            await Announcer(options).AnnounceChangeAsync(CancellationToken.None);
            await counter.WaitForAsync(2, "the reload of the announced change");
        }
        finally { await listener.StopAsync(CancellationToken.None); }
    }

    [Fact]
    public async Task A_change_whose_notification_was_lost_is_found_by_the_poll()
    {
        var server = await PostgresServer.SharedAsync();
        var options = await server.CreateDatabaseAsync();
        var counter = new ReloadCounter();
        var listener = Listener(options, Guid.NewGuid(), TimeSpan.FromMilliseconds(200), counter);
        await listener.StartAsync(CancellationToken.None);
        try
        {
            await counter.WaitForAsync(1, "the reload that follows LISTEN");
            // another node's event row without its NOTIFY (as when the listening connection was down)
            await using (var conn = new NpgsqlConnection(server.ConnectionString(options.Database)))
            {
                await conn.OpenAsync();
                await using var insert = new NpgsqlCommand(
                    "INSERT INTO cluster_events (node_id, channel, expire_at) VALUES (@n, 'invalidations', now() + interval '1 hour')", conn);
                insert.Parameters.AddWithValue("n", Guid.NewGuid());
                await insert.ExecuteNonQueryAsync();
            }
            await counter.WaitForAsync(2, "the reload after the poll");
        }
        finally { await listener.StopAsync(CancellationToken.None); }
    }

    [Fact]
    public async Task This_nodes_own_events_do_not_reload_it()
    {
        var server = await PostgresServer.SharedAsync();
        var options = await server.CreateDatabaseAsync();
        var node = Guid.NewGuid();
        var counter = new ReloadCounter();
        var listener = Listener(options, node, TimeSpan.FromMilliseconds(100), counter);
        await listener.StartAsync(CancellationToken.None);
        try
        {
            await counter.WaitForAsync(1, "the reload that follows LISTEN");
            var own = new PostgresClusterEvents(new PostgresConnections(options), new AdminNodeInfo(new GatehouseOptions { NodeId = node }));
            for (var i = 0; i < 5; i++) await own.AnnounceChangeAsync(CancellationToken.None);
            // then one foreign event; the reloads it causes are the only ones after the first
            await Announcer(options).AnnounceChangeAsync(CancellationToken.None);
            await counter.WaitForAsync(2, "the reload of the foreign change");
            var polls = listener.PollsCompleted;
            await Eventually.TrueAsync(() => listener.PollsCompleted >= polls + 2, "two more polls", within: Patience); // by then every event was read
            // the foreign event may cost two reloads (its notification and the poll), never the five own ones
            Assert.InRange(counter.Count, 2, 3);
        }
        finally { await listener.StopAsync(CancellationToken.None); }
    }

    [Fact]
    public async Task The_listener_reconnects_after_the_server_restarts()
    {
        await using var server = await PostgresServer.StartAsync();
        var options = await server.CreateDatabaseAsync();
        var counter = new ReloadCounter();
        var listener = Listener(options, Guid.NewGuid(), TimeSpan.FromHours(1), counter);
        await listener.StartAsync(CancellationToken.None);
        try
        {
            await counter.WaitForAsync(1, "the reload that follows LISTEN");
            await server.StopAsync();
            await server.RestartAsync();
            await counter.WaitForAsync(2, "the reload that follows LISTEN again");
            await Announcer(options).AnnounceChangeAsync(CancellationToken.None);
            await counter.WaitForAsync(3, "the reload of a change announced after the restart");
        }
        finally { await listener.StopAsync(CancellationToken.None); }
    }

    [Fact]
    public async Task A_burst_of_requests_during_a_reload_costs_one_more_reload()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = 0;
        await using var queue = new ConfigReloadQueue(async _ =>
        {
            if (Interlocked.Increment(ref calls) == 1)
            {
                started.SetResult();
                await release.Task;
            }
        }, TimeSpan.Zero, TimeProvider.System, NullLogger.Instance);
        queue.Request();
        await started.Task;
        for (var i = 0; i < 1000; i++) queue.Request();
        release.SetResult();
        await Eventually.TrueAsync(() => queue.Completed >= 2, "two reloads", within: Patience);
        Assert.Equal(2, Volatile.Read(ref calls));
        // a request after both ran is served too
        queue.Request();
        await Eventually.TrueAsync(() => queue.Completed >= 3, "three reloads", within: Patience);
        Assert.Equal(3, Volatile.Read(ref calls));
    }
}
