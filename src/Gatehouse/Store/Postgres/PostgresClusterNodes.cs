using System.Threading.Channels;
using Gatehouse.Config;
using Gatehouse.Model;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Gatehouse.Store.Postgres;

/// <summary>
/// This node's row in <c>cluster_nodes</c> (id, host name, version, last seen, hash and version of the configuration it
/// serves), written every <c>db_update_frequency</c> and whenever it publishes a configuration, and the list of every
/// node's row for <c>GET /clustering/status</c>. A node not seen for three heartbeats is listed as stale; a row not seen
/// for 14 days (Kong's <c>cluster_data_plane_purge_delay</c> default) is removed.
/// </summary>
internal sealed partial class PostgresClusterNodes : BackgroundService, IClusterNodes
{
    private static readonly TimeSpan PurgeAfter = TimeSpan.FromDays(14);

    private readonly PostgresConnections _db;
    private readonly AdminNodeInfo _node;
    private readonly StoreConfigPublisher _store;
    private readonly GatewayConfigPublisher _config;
    private readonly TimeSpan _frequency;
    private readonly TimeProvider _time;
    private readonly ILogger<PostgresClusterNodes> _logger;
    private readonly Channel<bool> _published = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    public PostgresClusterNodes(PostgresConnections db, AdminNodeInfo node, StoreConfigPublisher store, GatewayConfigPublisher config,
        GatehouseOptions options, TimeProvider time, ILogger<PostgresClusterNodes> logger)
    {
        _db = db ?? throw new ArgumentNullException(nameof(db));
        _node = node ?? throw new ArgumentNullException(nameof(node));
        _store = store ?? throw new ArgumentNullException(nameof(store));
        _config = config ?? throw new ArgumentNullException(nameof(config));
        _frequency = (options ?? throw new ArgumentNullException(nameof(options))).DbUpdateFrequency;
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
    }

    private TimeSpan StaleAfter => _frequency * 3;

    public Task<IReadOnlyList<ClusterNode>> ListAsync(CancellationToken ct) => _db.RunAsync(read: false, async conn =>
    {
        await using var cmd = new NpgsqlCommand(
            "SELECT id, hostname, version, last_seen, config_hash, config_version, now() - last_seen > @stale FROM cluster_nodes ORDER BY id", conn);
        cmd.Parameters.AddWithValue("stale", StaleAfter);
        var nodes = new List<ClusterNode>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            nodes.Add(new ClusterNode(reader.GetGuid(0), reader.GetString(1), reader.GetString(2),
                new DateTimeOffset(reader.GetDateTime(3), TimeSpan.Zero), reader.GetString(4), reader.GetInt64(5), reader.GetBoolean(6)));
        return (IReadOnlyList<ClusterNode>)nodes;
    }, ct);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        void OnPublished(GatewayConfig _) => _published.Writer.TryWrite(true);
        _config.Published += OnPublished;
        try
        {
            var failed = false;
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await BeatAsync(stoppingToken);
                    failed = false;
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { return; }
                catch (Exception e)
                {
                    // the heartbeat must go on whatever failed (a failure escaping a hosted service stops the node)
                    if (!failed) LogHeartbeatFailed(e);
                    failed = true;
                }
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                wait.CancelAfter(_frequency);
                try { await _published.Reader.ReadAsync(wait.Token); }
                catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested) { } // the heartbeat is due
                catch (OperationCanceledException) { return; }
            }
        }
        finally
        {
            _config.Published -= OnPublished;
        }
    }

    private Task BeatAsync(CancellationToken ct) => _db.RunAsync(read: false, async conn =>
    {
        await using var cmd = new NpgsqlCommand("""
            INSERT INTO cluster_nodes (id, hostname, version, last_seen, config_hash, config_version)
            VALUES (@id, @hostname, @version, now(), @hash, @config_version)
            ON CONFLICT (id) DO UPDATE SET hostname = EXCLUDED.hostname, version = EXCLUDED.version, last_seen = EXCLUDED.last_seen,
                config_hash = EXCLUDED.config_hash, config_version = EXCLUDED.config_version;
            DELETE FROM cluster_nodes WHERE last_seen < now() - @purge
            """, conn);
        cmd.Parameters.AddWithValue("id", _node.NodeId);
        cmd.Parameters.AddWithValue("hostname", _node.Hostname);
        cmd.Parameters.AddWithValue("version", GatehouseVersion.Current);
        cmd.Parameters.AddWithValue("hash", _store.ConfigurationHash);
        cmd.Parameters.AddWithValue("config_version", _config.Current.Version);
        cmd.Parameters.AddWithValue("purge", PurgeAfter);
        await cmd.ExecuteNonQueryAsync(ct);
        return true;
    }, ct);

    [LoggerMessage(EventId = 2118, Level = LogLevel.Warning, Message = "writing this node's heartbeat to cluster_nodes failed; retrying every db_update_frequency")]
    private partial void LogHeartbeatFailed(Exception error);
}
