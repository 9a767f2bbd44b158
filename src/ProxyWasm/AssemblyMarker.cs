namespace ProxyWasm;

/// <summary>Placeholder so the project compiles before the host lands; delete when real types exist.</summary>
internal static class AssemblyMarker { }
