namespace ProxyWasm.Abi;

/// <summary><c>proxy_log_level_t</c> (spec §1.5).</summary>
internal enum ProxyLogLevel
{
    Trace = 0,
    Debug = 1,
    Info = 2,
    Warn = 3,
    Error = 4,
    Critical = 5,
    Max = Critical,
}
