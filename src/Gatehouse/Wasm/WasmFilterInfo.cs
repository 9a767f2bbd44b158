using System.Text.Json.Nodes;

namespace Gatehouse.Wasm;

/// <summary>One enabled filter found by discovery (Kong's <c>wasm_modules_parsed</c> entry plus its metadata).</summary>
public sealed record WasmFilterInfo(string Name, string Path)
{
    /// <summary>The <c>&lt;name&gt;.meta.json</c> document, or null when the filter has none.</summary>
    public JsonObject? Metadata { get; init; }
    /// <summary>The registered config schema (with <c>$schema</c> forced to draft 4, as Kong), or the default one.</summary>
    public required JsonObject ConfigSchemaJson { get; init; }
    /// <summary>True when the metadata declared a <c>config_schema</c> (config may then be any JSON).</summary>
    public bool HasConfigSchema { get; init; }
    public required FilterConfigSchema ConfigSchema { get; init; }
    /// <summary>Gatehouse extension (meta.json <c>root_id</c>, Envoy's <c>root_id</c>): answered as <c>plugin_root_id</c>,
    /// the name SDK filters (AssemblyScript, C++) look their root context up by. Default "" as Envoy's.</summary>
    public string RootId { get; init; } = "";
    /// <summary>Gatehouse extension (meta.json <c>vm_id</c>): answered as <c>plugin_vm_id</c>; filters with the same
    /// vm_id share key/value data and queues (default "": shared by every filter that names none).</summary>
    public string VmId { get; init; } = "";
    /// <summary>Gatehouse extension (meta.json <c>property_encoding</c>): how typed property values reach the filter.</summary>
    public ProxyWasm.Runtime.PropertyEncoding PropertyEncoding { get; init; } = ProxyWasm.Runtime.PropertyEncoding.Binary;
}
