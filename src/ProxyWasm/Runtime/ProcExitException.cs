namespace ProxyWasm.Runtime;

/// <summary>Thrown by WASI <c>proc_exit</c> to unwind the guest; exit code 0 is a normal end only during WASI start-up (spec §1.2), a trap in any proxy_* callback (§3).</summary>
internal sealed class ProcExitException(int code) : Exception($"guest called proc_exit({code})")
{
    public int Code { get; } = code;
}
