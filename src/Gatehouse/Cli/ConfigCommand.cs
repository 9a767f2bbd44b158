using System.CommandLine;
using Gatehouse.Hosting;
using Gatehouse.Store;
using Gatehouse.Store.Declarative;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Cli;

/// <summary>
/// <c>gatehouse config parse FILE [-c CONF] [-p PREFIX]</c> and <c>gatehouse config init [FILE]</c>. Parse reads the
/// settings <c>start</c> reads (the conf file, <c>GATEHOUSE_*</c> then <c>KONG_*</c> environment, the prefix) and
/// checks the file against the entities that node would have: the plugins of its <c>database</c> mode, the Wasm filters
/// under its <c>wasm_filters_path</c>. It composes the node exactly as <c>start</c> does, without starting it.
/// <c>config db_import FILE</c> and <c>config db_export [FILE]</c> (Kong's) do the same to reach the node's database.
/// </summary>
internal static class ConfigCommand
{
    public static Command Create(CliContext cli)
    {
        var conf = ConfOptions.Conf();
        var prefix = ConfOptions.Prefix();
        var parseFile = new Argument<string>("file") { Description = "Declarative configuration (kong.yml) to validate" };
        var parse = new Command("parse", "Validate a declarative configuration file against this node's configuration") { parseFile, conf, prefix };
        parse.SetAction((p, _) => ParseAsync(cli, p.GetValue(parseFile)!, p.GetValue(conf), p.GetValue(prefix)));
        var initFile = new Argument<string?>("file") { Description = "Where to write (default ./kong.yml)", Arity = ArgumentArity.ZeroOrOne };
        var init = new Command("init", "Write an example declarative configuration") { initFile };
        init.SetAction(p => StoreCommands.InitDeclarative(p.GetValue(initFile) ?? "kong.yml", cli.Out, cli.Error));
        var importFile = new Argument<string>("file") { Description = "Declarative configuration (kong.yml) to import" };
        var dbImport = new Command("db_import", "Import a declarative config file into the database (entities are created or " +
            "replaced by primary key; the others are kept)") { importFile, conf, prefix };
        dbImport.SetAction((p, ct) => WithDatabaseAsync(cli, "db_import", p.GetValue(conf), p.GetValue(prefix), (host, c) =>
            StoreCommands.DbImportAsync(p.GetValue(importFile)!, host.Services.GetRequiredService<DeclarativeLoader>(),
                host.Services.GetRequiredService<EntityDao>(), cli.Out, cli.Error, c), ct));
        var exportFile = new Argument<string?>("file") { Description = "Where to write (default ./kong.yml)", Arity = ArgumentArity.ZeroOrOne };
        var dbExport = new Command("db_export", "Export the database into a declarative config file") { exportFile, conf, prefix };
        dbExport.SetAction((p, ct) => WithDatabaseAsync(cli, "db_export", p.GetValue(conf), p.GetValue(prefix), (host, c) =>
            StoreCommands.DbExportAsync(Path.GetFullPath(p.GetValue(exportFile) ?? "kong.yml"),
                host.Services.GetRequiredService<DeclarativeConfigService>(), host.Services.GetRequiredService<IEntityStore>(), cli.Error, c), ct));
        return new Command("config", "Declarative configuration tools") { parse, init, dbImport, dbExport };
    }

    /// <summary>Composes the node (not started: nothing listens, nothing migrates) and runs <paramref name="action"/>
    /// on its services; <c>database = off</c> is refused with Kong's messages.</summary>
    private static async Task<int> WithDatabaseAsync(CliContext cli, string command, string? confPath, string? prefix,
        Func<GatewayHost, CancellationToken, Task<int>> action, CancellationToken ct)
    {
        var options = ConfOptions.Load(cli, confPath, prefix);
        if (options is null) return 1;
        if (options.Database == Config.DatabaseKind.Off)
        {
            cli.Error.WriteLine(command == "db_import"
                ? "Error: 'gatehouse config db_import' only works with a database.\nWhen using database=off, reload your declarative " +
                  "configuration using the /config endpoint."
                : "Error: 'gatehouse config db_export' only works with a database.");
            return 1;
        }
        GatewayHost? host = null;
        try
        {
            host = GatewayHost.Create(options, new GatewayHostOptions { ConfigureLogging = _ => { }, RunMigrations = false });
            return await action(host, ct);
        }
        catch (Exception e) when (e is System.Data.Common.DbException or TimeoutException or Wasm.WasmStartupException or IOException
            or UnauthorizedAccessException or InvalidOperationException)
        {
            cli.Error.WriteLine($"Error: {e.Message}");
            return 1;
        }
        finally
        {
            if (host is not null) await host.DisposeAsync();
        }
    }

    private static async Task<int> ParseAsync(CliContext cli, string file, string? confPath, string? prefix)
    {
        var options = ConfOptions.Load(cli, confPath, prefix);
        if (options is null) return 1;
        GatewayHost? host = null;
        try
        {
            // no log output: what parse has to say goes to stdout/stderr below
            host = GatewayHost.Create(options, new GatewayHostOptions { ConfigureLogging = _ => { } });
            var loader = host.Services.GetRequiredService<DeclarativeLoader>();
            return StoreCommands.ParseDeclarative(file, loader, cli.Out, cli.Error);
        }
        catch (Exception e) when (e is Wasm.WasmStartupException or IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            cli.Error.WriteLine($"error: cannot check against this configuration: {e.Message}");
            return 1;
        }
        finally
        {
            if (host is not null) await host.DisposeAsync();
        }
    }
}
