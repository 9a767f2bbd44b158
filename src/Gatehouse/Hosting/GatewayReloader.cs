using Gatehouse.Config;
using Gatehouse.Store;
using Gatehouse.Store.Declarative;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Hosting;

/// <summary>
/// What <c>gatehouse reload</c> (SIGHUP) does in the running process, which keeps its listeners and settings:
/// DB-less, the <c>declarative_config</c> file named by the re-read conf is loaded again and published (an invalid
/// file is logged and the running configuration kept); on SQLite, the configuration is rebuilt from the database.
/// Every other conf key that changed is named in a warning: it takes effect at the next start (<c>restart</c>).
/// Kong's reload starts new nginx workers that read the whole conf; this process cannot rebind or rebuild its host.
/// </summary>
public sealed partial class GatewayReloader(GatehouseOptions running, IServiceProvider services, ILogger<GatewayReloader> logger)
{
    /// <summary>Keys a reload applies.</summary>
    private static readonly HashSet<string> Reloadable = new(StringComparer.Ordinal) { "declarative_config" };

    /// <summary>True when the configuration was applied; false when it was refused or failed (logged: a signal
    /// handler has nobody else to tell).</summary>
    public async Task<bool> ReloadAsync(GatehouseOptions fresh, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(fresh);
        try { return await ApplyAsync(fresh, ct); }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { return false; } // stopping
        catch (Exception e)
        {
            LogFailed(logger, e);
            return false;
        }
    }

    private async Task<bool> ApplyAsync(GatehouseOptions fresh, CancellationToken ct)
    {
        var changed = running.Raw.Keys.Union(fresh.Raw.Keys)
            .Where(k => !Reloadable.Contains(k) && running.Raw.GetValueOrDefault(k) != fresh.Raw.GetValueOrDefault(k))
            .Order(StringComparer.Ordinal).ToArray();
        if (changed.Length > 0) LogNeedsRestart(logger, string.Join(", ", changed));
        if (running.Database == DatabaseKind.Off)
        {
            var declarative = services.GetService<DeclarativeConfigService>();
            if (declarative is null || fresh.DeclarativeConfig is not { } path)
            {
                LogReloaded(logger, "the running configuration (no declarative_config)");
                return true; // as Kong: without declarative_config the loaded configuration stays
            }
            byte[] content;
            try { content = await File.ReadAllBytesAsync(path, ct); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                LogRefused(logger, path, e.Message);
                return false;
            }
            var result = await declarative.ApplyAsync(content, keepEntities: false, ct);
            if (!result.IsValid)
            {
                LogRefused(logger, path, DeclarativeReport.Describe(result.Error!));
                return false;
            }
            LogReloaded(logger, path);
            return true;
        }
        if (services.GetService<StoreConfigPublisher>() is { } store) await store.PublishAsync(ct);
        LogReloaded(logger, "the database");
        return true;
    }

    [LoggerMessage(EventId = 1201, Level = LogLevel.Warning, Message = "reload: changed configuration keys are not reloaded in a running node; restart to apply: {Keys}")]
    private static partial void LogNeedsRestart(ILogger logger, string keys);

    [LoggerMessage(EventId = 1202, Level = LogLevel.Error, Message = "reload: declarative config file {Path} refused, the running configuration is kept: {Reason}")]
    private static partial void LogRefused(ILogger logger, string path, string reason);

    [LoggerMessage(EventId = 1204, Level = LogLevel.Error, Message = "reload failed; the running configuration is kept")]
    private static partial void LogFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1203, Level = LogLevel.Information, Message = "reload: configuration reloaded from {Source}")]
    private static partial void LogReloaded(ILogger logger, string source);
}
