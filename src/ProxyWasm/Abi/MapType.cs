namespace ProxyWasm.Abi;

/// <summary><c>proxy_map_type_t</c> (spec §1.5).</summary>
internal enum MapType
{
    HttpRequestHeaders = 0,
    HttpRequestTrailers = 1,
    HttpResponseHeaders = 2,
    HttpResponseTrailers = 3,
    GrpcCallInitialMetadata = 4,
    GrpcCallTrailingMetadata = 5,
    HttpCallResponseHeaders = 6,
    HttpCallResponseTrailers = 7,
    Max = HttpCallResponseTrailers,
}
