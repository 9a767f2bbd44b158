using System.CommandLine;
using Gatehouse.Config;

namespace Gatehouse.Cli;

/// <summary>The shared <c>-c/--conf</c> and <c>-p/--prefix</c> options and the conf loading every command does.</summary>
internal static class ConfOptions
{
    public static Option<string?> Conf() => new("--conf", "-c") { Description = "Path to a gatehouse.conf (kong.conf syntax)" };

    public static Option<string?> Prefix() => new("--prefix", "-p") { Description = "Override the prefix directory" };

    /// <summary>Loads options; prints warnings and errors (each naming its key). Null when invalid.</summary>
    public static GatehouseOptions? Load(CliContext cli, string? confPath, string? prefix)
    {
        var result = GatehouseConfLoader.Load(confPath, cli.Environment, prefix);
        foreach (var w in result.Warnings) cli.Error.WriteLine($"warning: {w}");
        foreach (var e in result.Errors) cli.Error.WriteLine($"error: {e}");
        if (!result.IsValid) cli.Error.WriteLine("Error: invalid configuration" + (confPath is null ? "" : $" in '{confPath}'"));
        return result.IsValid ? result.Options : null;
    }
}
