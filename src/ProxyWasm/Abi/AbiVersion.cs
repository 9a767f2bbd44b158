namespace ProxyWasm.Abi;

/// <summary>Proxy-Wasm ABI versions this host speaks, detected from the module's marker export (spec §1.1).</summary>
[Flags]
public enum AbiVersion
{
    /// <summary>No known marker (such modules are rejected at load).</summary>
    None = 0,
    /// <summary><c>proxy_abi_version_0_1_0</c> (Rust SDK 0.1.x).</summary>
    V0_1_0 = 1,
    /// <summary><c>proxy_abi_version_0_2_0</c> (npm @solo-io/proxy-runtime 0.1.8).</summary>
    V0_2_0 = 2,
    /// <summary><c>proxy_abi_version_0_2_1</c> (Rust SDK ≥ 0.2, C++ SDK, Go SDK).</summary>
    V0_2_1 = 4,
    /// <summary>Every version: used by the host-function table for functions common to all.</summary>
    All = V0_1_0 | V0_2_0 | V0_2_1,
    /// <summary>0.2.0 and later.</summary>
    V0_2 = V0_2_0 | V0_2_1,
}
