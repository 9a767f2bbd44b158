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
        if (LoadFile(path, loader, stderr, $"Error: failed parsing declarative configuration {path}:\n") is not { } result) return 1;
        stdout.WriteLine($"parse successful: {string.Join(", ", result.Entities!.Select(kv => $"{kv.Value.Count} {kv.Key.Name}"))}");
        return 0;
    }

    /// <summary>Reads and parses a declarative file; warnings (how it was read) go to stderr. Null, with the reason on
    /// stderr (after <paramref name="failedParsing"/> for a file that does not parse), when it cannot be used.</summary>
    private static DeclarativeResult? LoadFile(string path, DeclarativeLoader loader, TextWriter stderr, string failedParsing)
    {
        byte[] content;
        try { content = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            stderr.WriteLine($"Error: cannot read {path}: {e.Message}");
            return null;
        }
        var result = loader.Load(content);
        foreach (var warning in result.Warnings) stderr.WriteLine($"warning: {warning}");
        if (result.IsValid) return result;
        stderr.WriteLine(failedParsing + DeclarativeReport.Describe(result.Error!));
        return null;
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

    /// <summary>`gatehouse config db_import FILE` (Kong's): parses the file as the node would, then creates or replaces
    /// each of its entities in the database (<see cref="EntityDao.ImportAsync"/>); what the database holds besides is kept.</summary>
    public static async Task<int> DbImportAsync(string path, DeclarativeLoader loader, EntityDao dao, TextWriter stdout, TextWriter stderr,
        CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(loader);
        ArgumentNullException.ThrowIfNull(dao);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        if (await UpToDateRefusalAsync(dao.Store, stderr, ct)) return 1;
        if (LoadFile(path, loader, stderr, "Error: Failed parsing:\n") is not { } result) return 1;
        stdout.WriteLine("parse successful, beginning import");
        var imported = await dao.ImportAsync(result.Entities!, ct);
        if (imported.Error is { } error)
        {
            stderr.WriteLine("Error: Failed importing:\n" + error.Message);
            return 1;
        }
        stdout.WriteLine("import successful");
        return 0;
    }

    /// <summary>`gatehouse config db_export [FILE]` (Kong's): the database as a declarative file; an existing file is
    /// not overwritten.</summary>
    public static async Task<int> DbExportAsync(string path, DeclarativeConfigService declarative, IEntityStore store, TextWriter stderr,
        CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(declarative);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(stderr);
        if (File.Exists(path))
        {
            stderr.WriteLine($"Error: {path} already exists. Will not overwrite it.");
            return 1;
        }
        if (await UpToDateRefusalAsync(store, stderr, ct)) return 1;
        var yaml = await declarative.ExportYamlAsync(ct);
        try
        {
            await using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
            await using var writer = new StreamWriter(file);
            await writer.WriteAsync(yaml.AsMemory(), ct);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"Error: cannot write {path}: {e.Message}");
            return 1;
        }
        return 0;
    }

    /// <summary>True (and says why) when the database cannot be used as it is: never bootstrapped, new migrations, or
    /// migrated by a newer Gatehouse.</summary>
    private static async Task<bool> UpToDateRefusalAsync(IEntityStore store, TextWriter stderr, CancellationToken ct)
    {
        if ((await MigrationState.ReadAsync(store, ct)).Refusal() is not { } refusal) return false;
        stderr.WriteLine("Error: " + refusal);
        return true;
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
