namespace ProxyWasm.Runtime;

/// <summary>A module could not be accepted (invalid wasm/WAT, unknown ABI, no allocator); the message names the file.</summary>
public sealed class ModuleLoadException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ModuleLoadException(string message, Exception? inner = null) : base(message, inner) { }
}
