namespace ProxyWasm.Abi;

/// <summary>The subset of WASI preview1 <c>errno</c> values this host returns (spec §1.5, §3).</summary>
internal enum WasiErrno
{
    Success = 0,
    BadF = 8,
    NotDir = 20,
    Fault = 21,
    Inval = 28,
    NoEnt = 44,
    NoSys = 52,
    NotSup = 58,
    NotCapable = 76,
}
