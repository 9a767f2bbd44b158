using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using ProxyWasm.Abi;
using Wasmtime;

namespace ProxyWasm.Runtime;

/// <summary>
/// Compiles a module once (binary or WAT text; optionally through the on-disk compiled-code cache), detects its
/// ABI from the first marker export (spec §1.1), requires an allocator (§1.3), and stubs imports the host
/// table lacks or declares differently on a per-module linker clone (§1.6 signature hazard).
/// </summary>
internal static class ModuleLoader
{
    private static readonly (string Export, AbiVersion Version)[] Markers =
    [
        ("proxy_abi_version_0_2_1", AbiVersion.V0_2_1),
        ("proxy_abi_version_0_2_0", AbiVersion.V0_2_0),
        ("proxy_abi_version_0_1_0", AbiVersion.V0_1_0),
    ];

    public static string WasmtimeVersion { get; } = typeof(Engine).Assembly.GetName().Version?.ToString() ?? "unknown";

    public static FilterModule Load(WasmHost host, string name, string? path, byte[] source, ILogger logger)
    {
        string display = path ?? name;
        string hash = Convert.ToHexStringLower(SHA256.HashData(source));
        bool binary = source.Length >= 4 && source[0] == 0 && source[1] == (byte)'a' && source[2] == (byte)'s' && source[3] == (byte)'m';
        Module module;
        try
        {
            module = binary ? Compile(host, name, source, hash) : Module.FromText(host.Engine, name, Encoding.UTF8.GetString(source));
        }
        catch (WasmtimeException ex)
        {
            throw new ModuleLoadException($"{display}: not a valid wasm module: {ex.Message}", ex);
        }
        try
        {
            var abi = DetectAbi(module);
            if (abi == AbiVersion.None)
                throw new ModuleLoadException($"{display}: missing or unknown Proxy-Wasm ABI version (expected an export proxy_abi_version_0_2_1, _0_2_0 or _0_1_0)");
            if (!HasAllocator(module))
                throw new ModuleLoadException($"{display}: missing malloc or proxy_on_memory_allocate export (i32) -> i32");
            var (linker, stubbed) = LinkerFor(host, module, name, logger);
            return new FilterModule(name, path, abi, source.LongLength, hash, module, linker, stubbed);
        }
        catch
        {
            module.Dispose();
            throw;
        }
    }

    public static AbiVersion DetectAbi(Module module)
    {
        foreach (var export in module.Exports)
        {
            if (export is not FunctionExport) continue;
            foreach (var (marker, version) in Markers)
            {
                if (export.Name == marker) return version;
            }
        }
        return AbiVersion.None;
    }

    private static bool HasAllocator(Module module)
        => module.Exports.OfType<FunctionExport>().Any(e => e.Name is "malloc" or "proxy_on_memory_allocate"
            && e.Parameters.SequenceEqual([ValueKind.Int32]) && e.Results.SequenceEqual([ValueKind.Int32]));

    private static Module Compile(WasmHost host, string name, byte[] source, string hash)
    {
        var dir = host.Options.CompiledCacheDirectory;
        if (dir is null) return Module.FromBytes(host.Engine, name, source);
        var file = System.IO.Path.Combine(dir, $"{hash}-wasmtime-{WasmtimeVersion}.cwasm");
        if (File.Exists(file))
        {
            try
            {
                return Module.Deserialize(host.Engine, name, File.ReadAllBytes(file));
            }
            catch (WasmtimeException)
            {
                // stale or corrupt cache entry: recompile below and overwrite it
            }
        }
        var module = Module.FromBytes(host.Engine, name, source);
        Directory.CreateDirectory(dir);
        var temp = file + "." + Guid.NewGuid().ToString("N") + ".tmp";
        File.WriteAllBytes(temp, module.Serialize());
        File.Move(temp, file, overwrite: true);
        return module;
    }

    private static (Linker Linker, IReadOnlyList<string> Stubbed) LinkerFor(WasmHost host, Module module, string name, ILogger logger)
    {
        var missing = new List<FunctionImport>();
        foreach (var import in module.Imports.OfType<FunctionImport>())
        {
            if (!HostFunctionTable.TryFind(import.ModuleName, import.Name, out var f) || !f.Matches(import.Parameters, import.Results))
                missing.Add(import);
        }
        if (missing.Count == 0) return (host.Linker, []);
        var linker = host.Linker.Clone();
        linker.AllowShadowing = true;
        foreach (var import in missing) HostFunctionTable.DefineStub(linker, import, logger, name);
        return (linker, missing.Select(i => $"{i.ModuleName}.{i.Name}").ToList());
    }
}
