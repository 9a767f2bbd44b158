using Microsoft.Extensions.Logging;

namespace ProxyWasm.Abi;

/// <summary>Log helpers of the ABI layer.</summary>
internal static class WasmLogAbi
{
    public static void Unsupported(ILogger logger, string module, string importModule, string name)
        => Runtime.WasmLog.UnsupportedImport(logger, module, importModule, name);
}
