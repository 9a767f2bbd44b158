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
}
