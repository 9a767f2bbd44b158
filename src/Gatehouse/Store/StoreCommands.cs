using Gatehouse.Config;

namespace Gatehouse.Store;

/// <summary>CONTRACT STUB (owned by the store/admin work): what the CLI's store-related commands do.
/// Each returns the process exit code and writes human-readable output.</summary>
public static class StoreCommands
{
    /// <summary>`gatehouse config parse FILE`: 0 when valid, 1 with every error printed otherwise.</summary>
    public static int ParseDeclarative(string path, TextWriter stdout, TextWriter stderr) => 1;

    /// <summary>`gatehouse config init [FILE]`: writes an example kong.yml (default ./kong.yml).</summary>
    public static int InitDeclarative(string path, TextWriter stdout, TextWriter stderr) => 1;

    /// <summary>`gatehouse migrations up`: creates or upgrades the database schema.</summary>
    public static Task<int> MigrateUpAsync(GatehouseOptions options, TextWriter stdout, TextWriter stderr) => Task.FromResult(1);
}
