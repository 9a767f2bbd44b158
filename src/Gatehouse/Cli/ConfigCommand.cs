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
        return new Command("config", "Declarative configuration tools") { parse, init };
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
