namespace Gatehouse.Tests.Wasm;

/// <summary>Locates the committed filters of the repository (<c>filters/</c>) from the test output directory.</summary>
internal static class WasmPaths
{
    public static string Repo { get; } = FindRepo();

    public static string Examples => Path.Combine(Repo, "filters", "examples");
    public static string KongTests => Path.Combine(Repo, "filters", "rust", "kong-tests");

    /// <summary>add-headers (schema), config-check (no schema, validates itself), response_transformer (no schema)
    /// response_transformer_with_schema (Kong's fixture meta: any object) and rt_with_validation (object with required <c>add</c>).</summary>
    public static string MixedFilters()
    {
        var dir = CopyFilters(Examples, "add-headers");
        File.Copy(Path.Combine(Repo, "filters", "test", "config-check.wasm"), Path.Combine(dir, "config-check.wasm"));
        File.Copy(Path.Combine(KongTests, "response_transformer.wasm"), Path.Combine(dir, "response_transformer.wasm"));
        File.Copy(Path.Combine(KongTests, "response_transformer.wasm"), Path.Combine(dir, "response_transformer_with_schema.wasm"));
        File.Copy(Path.Combine(KongTests, "meta", "response_transformer_with_schema.meta.json"),
            Path.Combine(dir, "response_transformer_with_schema.meta.json"));
        File.Copy(Path.Combine(KongTests, "response_transformer.wasm"), Path.Combine(dir, "rt_with_validation.wasm"));
        File.Copy(Path.Combine(KongTests, "meta", "rt_with_validation.meta.json"), Path.Combine(dir, "rt_with_validation.meta.json"));
        return dir;
    }

    private static string FindRepo()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Gatehouse.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("repository root not found");
    }

    /// <summary>A temp directory holding copies of the given filter files (wasm + meta).</summary>
    public static string CopyFilters(string from, params string[] names)
    {
        var dir = Directory.CreateTempSubdirectory("gatehouse-wasm-").FullName;
        foreach (var name in names)
        {
            File.Copy(Path.Combine(from, name + ".wasm"), Path.Combine(dir, name + ".wasm"));
            var meta = Path.Combine(from, name + ".meta.json");
            if (File.Exists(meta)) File.Copy(meta, Path.Combine(dir, name + ".meta.json"));
        }
        return dir;
    }
}
