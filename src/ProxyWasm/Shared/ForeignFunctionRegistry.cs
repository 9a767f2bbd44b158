using System.Collections.Concurrent;

namespace ProxyWasm.Shared;

/// <summary>A host function a filter can call by name with <c>proxy_call_foreign_function</c>; returns the result bytes.</summary>
public delegate byte[] ForeignFunction(ReadOnlySpan<byte> arguments);

/// <summary>Registry behind <c>proxy_call_foreign_function</c>; unknown names answer NOT_FOUND (spec §5.6).</summary>
public sealed class ForeignFunctionRegistry
{
    private readonly ConcurrentDictionary<string, ForeignFunction> _functions = new(StringComparer.Ordinal);

    /// <summary>Registers (or replaces) <paramref name="name"/>.</summary>
    public void Register(string name, ForeignFunction function)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(function);
        _functions[name] = function;
    }

    /// <summary>Looks a function up.</summary>
    public bool TryGet(string name, out ForeignFunction function) => _functions.TryGetValue(name, out function!);
}
