using Wasmtime;

namespace ProxyWasm.Abi;

/// <summary>
/// Registers one <see cref="HostFunction"/> on a linker. Signatures used on the request path get a typed
/// trampoline (Wasmtime's unchecked typed callbacks: arguments arrive as ints, no <c>ValueBox</c> arrays are
/// rented or converted per call); the arguments are handed on in a stack-allocated span. Rare signatures with
/// i64 parameters (WASI file stubs) use Wasmtime's untyped callback.
/// </summary>
internal static class HostFunctionBinder
{
    public static void Define(Linker linker, HostFunction function)
    {
        var g = new Guard(function.Module, function.Name, function.Call);
        string m = function.Module, n = function.Name;
        switch (function.Signature)
        {
            case ">i": linker.DefineFunction(m, n, (CallerFunc<int>)(c => g.Run(c, []))); break;
            case "i>i": linker.DefineFunction(m, n, (CallerFunc<int, int>)((c, a) => g.Run(c, [new(a)]))); break;
            case "ii>i": linker.DefineFunction(m, n, (CallerFunc<int, int, int>)((c, a, b) => g.Run(c, [new(a), new(b)]))); break;
            case "iii>i": linker.DefineFunction(m, n, (CallerFunc<int, int, int, int>)((c, a, b, d) => g.Run(c, [new(a), new(b), new(d)]))); break;
            case "iiii>i":
                linker.DefineFunction(m, n, (CallerFunc<int, int, int, int, int>)((c, a, b, d, e) => g.Run(c, [new(a), new(b), new(d), new(e)])));
                break;
            case "iiiii>i":
                linker.DefineFunction(m, n, (CallerFunc<int, int, int, int, int, int>)((c, a, b, d, e, f)
                    => g.Run(c, [new(a), new(b), new(d), new(e), new(f)])));
                break;
            case "iiiiii>i":
                linker.DefineFunction(m, n, (CallerFunc<int, int, int, int, int, int, int>)((c, a, b, d, e, f, h)
                    => g.Run(c, [new(a), new(b), new(d), new(e), new(f), new(h)])));
                break;
            case "iiiiiiii>i":
                linker.DefineFunction(m, n, (CallerFunc<int, int, int, int, int, int, int, int, int>)((c, a, b, d, e, f, h, i, j)
                    => g.Run(c, [new(a), new(b), new(d), new(e), new(f), new(h), new(i), new(j)])));
                break;
            case "iiiiiiiiii>i":
                linker.DefineFunction(m, n, (CallerFunc<int, int, int, int, int, int, int, int, int, int, int>)((c, a, b, d, e, f, h, i, j, k, l)
                    => g.Run(c, [new(a), new(b), new(d), new(e), new(f), new(h), new(i), new(j), new(k), new(l)])));
                break;
            case "iI>i": linker.DefineFunction(m, n, (CallerFunc<int, long, int>)((c, a, b) => g.Run(c, [new(a), new(b)]))); break;
            case "iIi>i": linker.DefineFunction(m, n, (CallerFunc<int, long, int, int>)((c, a, b, d) => g.Run(c, [new(a), new(b), new(d)]))); break;
            case "i>": linker.DefineFunction(m, n, (CallerAction<int>)((c, a) => g.Run(c, [new(a)]))); break;
            case "iiii>": linker.DefineFunction(m, n, (CallerAction<int, int, int, int>)((c, a, b, d, e) => g.Run(c, [new(a), new(b), new(d), new(e)]))); break;
            default: DefineUntyped(linker, function, g); break;
        }
    }

    private static void DefineUntyped(Linker linker, HostFunction function, Guard g)
    {
        var parameters = function.Parameters;
        bool hasResult = function.Results.Count > 0;
        linker.DefineFunction(function.Module, function.Name, (Caller caller, ReadOnlySpan<ValueBox> args, Span<ValueBox> results) =>
        {
            Span<HostArg> converted = stackalloc HostArg[args.Length];
            for (int i = 0; i < args.Length; i++)
                converted[i] = parameters[i] == ValueKind.Int64 ? new(args[i].AsInt64()) : new(args[i].AsInt32());
            int status = g.Run(caller, converted);
            if (hasResult) results[0] = status;
        }, parameters, function.Results);
    }

    /// <summary>
    /// The allocator rule around every call: while the guest allocator runs (re-entered from a host function)
    /// only <see cref="HostFunctionTable.AllowedDuringAllocation"/> may be called.
    /// </summary>
    private sealed class Guard(string module, string name, HostCall call)
    {
        private readonly bool _allowedInAllocator = HostFunctionTable.AllowedDuringAllocation.Contains(name);

        public int Run(Caller caller, ReadOnlySpan<HostArg> args)
        {
            if (!_allowedInAllocator && caller.GetData() is Runtime.WasmVm { InAllocator: true })
                throw new InvalidOperationException($"host call {module}.{name} is not allowed inside the guest allocator");
            return call(caller, args);
        }
    }
}
