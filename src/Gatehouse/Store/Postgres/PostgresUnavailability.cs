using System.Net.Sockets;
using Gatehouse.Store.Outage;
using Npgsql;

namespace Gatehouse.Store.Postgres;

/// <summary>
/// Tells a failure to reach PostgreSQL (refused or broken connection, connect/command timeout, server shutting down
/// or starting) from an error of the statement itself, and turns the former into a
/// <see cref="DatabaseUnavailableException"/> so callers above the store need not know Npgsql.
/// </summary>
internal static class PostgresUnavailability
{
    public static bool IsUnavailable(Exception e) => e switch
    {
        // 08: connection exception; 57P01-57P03: admin/crash shutdown, cannot connect now; 53300: too many connections
        PostgresException pg => pg.SqlState.StartsWith("08", StringComparison.Ordinal)
            || pg.SqlState is "57P01" or "57P02" or "57P03" or "53300",
        // a certificate the server presents and pg_ssl_verify rejects is a misconfiguration, not an outage
        NpgsqlException { InnerException: System.Security.Authentication.AuthenticationException } => false,
        NpgsqlException => true, // Npgsql's own (not the server's): connecting, reading or writing the socket failed
        TimeoutException or SocketException or IOException => true,
        _ => false,
    };

    public static DatabaseUnavailableException Translate(string database, Exception e) =>
        new("postgres " + database, Innermost(e).Message, e);

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null) e = e.InnerException;
        return e;
    }
}
