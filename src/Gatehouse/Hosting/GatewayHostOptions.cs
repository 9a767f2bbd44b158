using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Hosting;

/// <summary>How a <see cref="GatewayHost"/> is assembled beyond <see cref="Config.GatehouseOptions"/>; tests use it
/// to leave out the store and Admin API and to add phase-plan contributors.</summary>
public sealed record GatewayHostOptions
{
    /// <summary>Registers the store (<c>AddGatehouseStore</c>) and maps the Admin API (<c>MapAdminApi</c>).</summary>
    public bool IncludeStoreAndAdmin { get; init; } = true;
    /// <summary>On PostgreSQL, run pending migrations at start. <c>gatehouse start</c> sets it from
    /// <c>--run-migrations</c> (Kong's start does not migrate); in-process hosts migrate by default.</summary>
    public bool RunMigrations { get; init; } = true;
    /// <summary>Extra registrations (e.g. <c>IPhasePlanContributor</c>s), applied after the defaults.</summary>
    public Action<IServiceCollection>? ConfigureServices { get; init; }
    /// <summary>Replaces the console logger setup (tests capture or silence logs).</summary>
    public Action<ILoggingBuilder>? ConfigureLogging { get; init; }
    /// <summary>How long a stop waits for in-flight requests before closing connections.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(30);
}
