using System.Data.Common;

namespace Gatehouse.Store.Outage;

/// <summary>
/// The shared database cannot be reached (refused or broken connection, timeout, server shutting down): not a
/// fault of the request. The Admin API answers a write with 503 and serves reads from the last published snapshot.
/// A <see cref="DbException"/>, so code that handles database errors in general handles this one too.
/// </summary>
public sealed class DatabaseUnavailableException : DbException
{
    public DatabaseUnavailableException(string database, string reason, Exception? inner = null)
        : base($"database {database} is unreachable: {reason}", inner)
    {
        Database = database;
        Reason = reason;
    }

    /// <summary>Which database, e.g. <c>postgres 127.0.0.1:5432/kong</c>.</summary>
    public string Database { get; }

    /// <summary>Why, in the driver's words (e.g. "Connection refused").</summary>
    public string Reason { get; }
}
