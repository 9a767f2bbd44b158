namespace ProxyWasm.Abi;

/// <summary><c>proxy_stream_type_t</c> (ABI 0.2.x, spec §1.5).</summary>
internal enum StreamType
{
    HttpRequest = 0,
    HttpResponse = 1,
    Downstream = 2,
    Upstream = 3,
    Max = Upstream,
}
