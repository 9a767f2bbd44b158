namespace Gatehouse.Config;

/// <summary>Kong's <c>pg_*</c> keys with kong.conf.default's defaults: the PostgreSQL server of
/// <c>database = postgres</c>. <see cref="ReadOnly"/> holds the <c>pg_ro_*</c> keys (a read replica).</summary>
public sealed record PostgresOptions
{
    public string Host { get; init; } = "127.0.0.1";
    public int Port { get; init; } = 5432;
    public string User { get; init; } = "kong";
    public string? Password { get; init; }
    public string Database { get; init; } = "kong";
    /// <summary><c>pg_schema</c>: the schema the tables live in; null: the server's search_path (normally public).</summary>
    public string? Schema { get; init; }
    /// <summary><c>pg_ssl</c>: connect with TLS (required when on).</summary>
    public bool Ssl { get; init; }
    /// <summary><c>pg_ssl_verify</c>: verify the server's certificate chain and host name (system trust store).</summary>
    public bool SslVerify { get; init; }
    /// <summary><c>pg_timeout</c>: connect and query timeout (Kong: milliseconds, default 5000).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMilliseconds(5000);
    /// <summary><c>pg_max_concurrent_queries</c>: queries in flight at once on this node; 0 = no limit.</summary>
    public int MaxConcurrentQueries { get; init; }
    /// <summary><c>pg_semaphore_timeout</c>: how long a query waits for a <c>pg_max_concurrent_queries</c> slot
    /// before it fails (Kong: milliseconds, default 60000).</summary>
    public TimeSpan SemaphoreTimeout { get; init; } = TimeSpan.FromMilliseconds(60000);
    /// <summary><c>pg_pool_size</c>: most pooled connections (Kong: per worker; here per node). Default 256.</summary>
    public int PoolSize { get; init; } = 256;

    /// <summary>The <c>pg_ro_*</c> keys as given; a read replica is used when <c>pg_ro_host</c> is set.</summary>
    public PostgresReadReplicaKeys ReadOnly { get; init; } = new();

    /// <summary>The read replica's settings (each unset <c>pg_ro_*</c> key takes its <c>pg_*</c> value, as Kong), or
    /// null when <c>pg_ro_host</c> is not set.</summary>
    public PostgresOptions? ReadReplica() => ReadOnly.Host is null ? null : this with
    {
        Host = ReadOnly.Host,
        Port = ReadOnly.Port ?? Port,
        User = ReadOnly.User ?? User,
        Password = ReadOnly.Password ?? Password,
        Database = ReadOnly.Database ?? Database,
        Schema = ReadOnly.Schema ?? Schema,
        Ssl = ReadOnly.Ssl ?? Ssl,
        SslVerify = ReadOnly.SslVerify ?? SslVerify,
        Timeout = ReadOnly.Timeout ?? Timeout,
        MaxConcurrentQueries = ReadOnly.MaxConcurrentQueries ?? MaxConcurrentQueries,
        PoolSize = ReadOnly.PoolSize ?? PoolSize,
        SemaphoreTimeout = ReadOnly.SemaphoreTimeout ?? SemaphoreTimeout,
        ReadOnly = new(),
    };
}

/// <summary>The <c>pg_ro_*</c> keys; null = not set (inherits the <c>pg_*</c> value).</summary>
public sealed record PostgresReadReplicaKeys
{
    public string? Host { get; init; }
    public int? Port { get; init; }
    public string? User { get; init; }
    public string? Password { get; init; }
    public string? Database { get; init; }
    public string? Schema { get; init; }
    public bool? Ssl { get; init; }
    public bool? SslVerify { get; init; }
    public TimeSpan? Timeout { get; init; }
    public int? MaxConcurrentQueries { get; init; }
    public int? PoolSize { get; init; }
    public TimeSpan? SemaphoreTimeout { get; init; }
}
