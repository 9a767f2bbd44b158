namespace ProxyWasm.Runtime;

/// <summary>How typed property values are encoded for the guest (spec §4.1).</summary>
public enum PropertyEncoding
{
    /// <summary>Envoy: ints as 8-byte little-endian, bools as one byte, maps as serialized pairs. Default.</summary>
    Binary = 0,
    /// <summary>ngx_wasm_module: every value is text (<c>"200"</c>, <c>"true"</c>).</summary>
    Text = 1,
}
