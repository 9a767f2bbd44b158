using Wasmtime;

namespace ProxyWasm.Abi;

/// <summary>A host function body: reads its arguments, returns the i32 status (ignored for void functions).</summary>
internal delegate int HostCall(Caller caller, ReadOnlySpan<HostArg> args);

/// <summary>
/// One row of the host-function table: import module, name, wasm signature (<c>"iiI&gt;i"</c>: params, then
/// results; <c>i</c> = i32, <c>I</c> = i64), the ABI versions that define it, and its implementation.
/// </summary>
internal sealed record HostFunction(string Module, string Name, string Signature, AbiVersion Versions, HostCall Call)
{
    public IReadOnlyList<ValueKind> Parameters { get; } = Kinds(Signature.Split('>')[0]);

    public IReadOnlyList<ValueKind> Results { get; } = Kinds(Signature.Split('>')[1]);

    public static IReadOnlyList<ValueKind> Kinds(string s) => s.Select(c => c switch
    {
        'i' => ValueKind.Int32,
        'I' => ValueKind.Int64,
        'f' => ValueKind.Float32,
        'F' => ValueKind.Float64,
        _ => throw new ArgumentException($"bad signature char '{c}'"),
    }).ToArray();

    public bool Matches(IReadOnlyList<ValueKind> parameters, IReadOnlyList<ValueKind> results)
        => parameters.SequenceEqual(Parameters) && results.SequenceEqual(Results);
}
