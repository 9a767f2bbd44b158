using System.Text.Json;
using System.Text.Json.Nodes;
using ProxyWasm.Runtime;

namespace Gatehouse.Wasm;

/// <summary>
/// The meta.json <c>property_encoding</c> of a filter (Gatehouse extension): <c>envoy</c> (default) answers typed
/// properties in Envoy's binary encoding, <c>ngx_wasm_module</c> answers every property as ngx_wasm_module does (text:
/// <c>"200"</c>, <c>"true"</c>, <c>sec.msec</c>, addresses without their port), so filters written for Kong run unchanged.
/// Per filter because the encoding is what the filter's code was written against, not a property of the deployment.
/// </summary>
internal static class FilterPropertyEncoding
{
    public const string Key = "property_encoding";
    public const string Envoy = "envoy";
    public const string Ngx = "ngx_wasm_module";

    /// <summary>False for a present value that is not one of the two names; absent (null) is Envoy's.</summary>
    public static bool TryParse(JsonNode? value, out PropertyEncoding encoding)
    {
        encoding = PropertyEncoding.Binary;
        if (value is null) return true;
        if (value is not JsonValue v || v.GetValueKind() != JsonValueKind.String) return false;
        switch (v.GetValue<string>())
        {
            case Envoy: return true;
            case Ngx: encoding = PropertyEncoding.Text; return true;
            default: return false;
        }
    }
}
