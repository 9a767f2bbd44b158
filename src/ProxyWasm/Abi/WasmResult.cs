namespace ProxyWasm.Abi;

/// <summary>
/// <c>proxy_status_t</c>: the status every <c>env.proxy_*</c> host function returns (spec §1.5).
/// Values in the spec's parentheses (5, 9, 11) exist in cpp-sdk/Envoy and are kept for exact numbering.
/// </summary>
internal enum WasmResult
{
    Ok = 0,
    NotFound = 1,
    BadArgument = 2,
    SerializationFailure = 3,
    ParseFailure = 4,
    BadExpression = 5,
    InvalidMemoryAccess = 6,
    Empty = 7,
    CasMismatch = 8,
    ResultMismatch = 9,
    InternalFailure = 10,
    BrokenConnection = 11,
    Unimplemented = 12,
}
