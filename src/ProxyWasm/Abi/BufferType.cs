namespace ProxyWasm.Abi;

/// <summary><c>proxy_buffer_type_t</c> (spec §1.5); 6–8 exist since ABI 0.2.0.</summary>
internal enum BufferType
{
    HttpRequestBody = 0,
    HttpResponseBody = 1,
    DownstreamData = 2,
    UpstreamData = 3,
    HttpCallResponseBody = 4,
    GrpcReceiveBuffer = 5,
    VmConfiguration = 6,
    PluginConfiguration = 7,
    ForeignFunctionArguments = 8,
    Max = ForeignFunctionArguments,
}
