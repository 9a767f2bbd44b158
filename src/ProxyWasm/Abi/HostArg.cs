namespace ProxyWasm.Abi;

/// <summary>
/// One argument of a host call as the guest passed it (i32 values sign-extended). An unmanaged stand-in for
/// Wasmtime's <c>ValueBox</c> so the typed trampolines of <see cref="HostFunctionBinder"/> can hand arguments
/// to <see cref="HostCall"/> bodies in a stack-allocated span, without renting or converting boxes per call.
/// </summary>
internal readonly struct HostArg
{
    private readonly long _value;

    public HostArg(int value) => _value = value;

    public HostArg(long value) => _value = value;

    public int AsInt32() => (int)_value;

    public long AsInt64() => _value;
}
