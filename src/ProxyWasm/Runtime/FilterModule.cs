using ProxyWasm.Abi;
using Wasmtime;

namespace ProxyWasm.Runtime;

/// <summary>
/// A compiled filter module, shared by every VM and plugin that uses it (compiled once per file).
/// Obtain it from <see cref="WasmHost.LoadModule(string, string)"/>.
/// </summary>
public sealed class FilterModule : IDisposable
{
    internal FilterModule(string name, string? path, AbiVersion abi, long size, string hash, Module module, Linker linker, IReadOnlyList<string> stubbedImports)
    {
        Name = name;
        Path = path;
        AbiVersion = abi;
        Size = size;
        Hash = hash;
        Module = module;
        Linker = linker;
        StubbedImports = stubbedImports;
        foreach (var export in module.Exports)
        {
            if (export.Name == "proxy_on_request_body") ExportsRequestBody = true;
            else if (export.Name == "proxy_on_response_body") ExportsResponseBody = true;
            else if (export.Name == "proxy_on_request_trailers") ExportsRequestTrailers = true;
            else if (export.Name == "proxy_on_response_trailers") ExportsResponseTrailers = true;
        }
    }

    /// <summary>Filter name (Kong: file name without <c>.wasm</c>).</summary>
    public string Name { get; }

    /// <summary>Source file, or null when loaded from bytes/text.</summary>
    public string? Path { get; }

    /// <summary>Detected Proxy-Wasm ABI version.</summary>
    public AbiVersion AbiVersion { get; }

    /// <summary>Size of the source (bytes of the .wasm or WAT text).</summary>
    public long Size { get; }

    /// <summary>Lower-case hex SHA-256 of the source bytes.</summary>
    public string Hash { get; }

    /// <summary>Imports the host does not implement (or with another signature); they trap when called.</summary>
    public IReadOnlyList<string> StubbedImports { get; }

    /// <summary>Whether the module exports <c>proxy_on_request_body</c>: an embedder can leave the request body
    /// phase out entirely (no buffering, Content-Length kept) for filters without it.</summary>
    public bool ExportsRequestBody { get; }

    /// <summary>Whether the module exports <c>proxy_on_response_body</c> (see <see cref="ExportsRequestBody"/>).</summary>
    public bool ExportsResponseBody { get; }

    /// <summary>Whether the module exports <c>proxy_on_request_trailers</c> (an embedder files the trailers step only then).</summary>
    public bool ExportsRequestTrailers { get; }

    /// <summary>Whether the module exports <c>proxy_on_response_trailers</c>.</summary>
    public bool ExportsResponseTrailers { get; }

    internal Module Module { get; }

    /// <summary>The host linker, or a per-module clone with stubs for <see cref="StubbedImports"/>.</summary>
    internal Linker Linker { get; }

    /// <summary>Releases the compiled code (after every plugin using it is disposed).</summary>
    public void Dispose()
    {
        Module.Dispose();
    }
}
