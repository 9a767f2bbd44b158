namespace ProxyWasm.Runtime;

/// <summary>Thrown by WASI <c>proc_exit</c> to unwind the guest; exit code 0 ends the callback normally (spec §1.2).</summary>
internal sealed class ProcExitException(int code) : Exception($"guest called proc_exit({code})")
{
    public int Code { get; } = code;
}
