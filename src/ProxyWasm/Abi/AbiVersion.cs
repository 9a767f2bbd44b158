namespace ProxyWasm.Abi;

/// <summary>Proxy-Wasm ABI versions this host speaks, detected from the module's marker export (spec §1.1).</summary>
[Flags]
public enum AbiVersion
{
    None = 0,
    V0_1_0 = 1,
    V0_2_0 = 2,
    V0_2_1 = 4,
    /// <summary>Every version: used by the host-function table for functions common to all.</summary>
    All = V0_1_0 | V0_2_0 | V0_2_1,
    /// <summary>0.2.0 and later.</summary>
    V0_2 = V0_2_0 | V0_2_1,
}
