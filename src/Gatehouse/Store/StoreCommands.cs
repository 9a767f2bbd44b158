using Gatehouse.Config;
using Gatehouse.Entities;
using Gatehouse.Store.Declarative;

namespace Gatehouse.Store;

/// <summary>What the CLI's store-related commands do. Each returns the process exit code and writes
/// human-readable output.</summary>
public static class StoreCommands
{
    /// <summary>`gatehouse config parse FILE` against <paramref name="registry"/> (the node's plugins and filters).</summary>
    public static int ParseDeclarative(string path, EntityRegistry registry, TextWriter stdout, TextWriter stderr) =>
        ParseDeclarative(path, new DeclarativeLoader(registry, TimeProvider.System), stdout, stderr);

    /// <summary>`gatehouse config parse FILE`: 0 when valid, 1 with every error printed otherwise; warnings (how
    /// the file was read) go to stderr either way.</summary>
    public static int ParseDeclarative(string path, DeclarativeLoader loader, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(loader);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        byte[] content;
        try { content = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            stderr.WriteLine($"Error: cannot read {path}: {e.Message}");
            return 1;
        }
        var result = loader.Load(content);
        foreach (var warning in result.Warnings) stderr.WriteLine($"warning: {warning}");
        if (!result.IsValid)
        {
            stderr.WriteLine($"Error: failed parsing declarative configuration {path}:");
            stderr.WriteLine(DeclarativeReport.Describe(result.Error!));
            return 1;
        }
        stdout.WriteLine($"parse successful: {string.Join(", ", result.Entities!.Select(kv => $"{kv.Value.Count} {kv.Key.Name}"))}");
        return 0;
    }

    /// <summary>`gatehouse config init [FILE]`: writes an example kong.yml (default ./kong.yml).</summary>
    public static int InitDeclarative(string path, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        path = string.IsNullOrEmpty(path) ? "kong.yml" : path;
        if (File.Exists(path))
        {
            stderr.WriteLine($"Error: {path} already exists; not overwriting it");
            return 1;
        }
        try { File.WriteAllText(path, ExampleDeclarative); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"Error: cannot write {path}: {e.Message}");
            return 1;
        }
        stdout.WriteLine($"Created declarative configuration file: {path}");
        return 0;
    }

    /// <summary>`gatehouse migrations up`: creates or upgrades the database schema.</summary>
    public static async Task<int> MigrateUpAsync(GatehouseOptions options, EntityRegistry registry, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        if (options.Database == DatabaseKind.Off)
        {
            stderr.WriteLine("Error: migrations are not needed when database = off");
            return 1;
        }
        try
        {
            var store = StoreServiceCollectionExtensions.CreateStore(options, registry, TimeProvider.System);
            using var _ = store as IDisposable;
            var ran = await store.MigrateAsync(CancellationToken.None);
            foreach (var name in ran) stdout.WriteLine($"migrating core: {name} executed");
            stdout.WriteLine(ran.Count == 0 ? "Database is already up-to-date" : $"{ran.Count} migrations processed");
            return 0;
        }
        catch (Exception e) when (e is System.Data.Common.DbException or IOException or NotSupportedException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"Error: {e.Message}");
            return 1;
        }
    }

    /// <summary>The example written by <see cref="InitDeclarative"/>; it is valid (tested).</summary>
    public const string ExampleDeclarative = """
        # A declarative configuration for Gatehouse (Kong 3.x format).
        # Load it with database = off and declarative_config = kong.yml, or POST it to /config.
        _format_version: "3.0"
        _transform: true

        services:
          - name: example-service
            url: http://example.com
            tags: [example]
            routes:
              - name: example-route
                paths:
                  - /mock
                # hosts: [example.test]
                # methods: [GET, POST]
                # strip_path: true

        # Routes can also be listed at top level, referring to their service by name or id:
        # routes:
        #   - name: other-route
        #     service: example-service
        #     hosts: ["*.example.org"]
        """;
}
