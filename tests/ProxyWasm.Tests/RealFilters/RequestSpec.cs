namespace ProxyWasm.Tests.RealFilters;

/// <summary>
/// One request as an embedder would feed it to a single-filter chain: request headers, request body chunks
/// (none ⇒ headers carry end-of-stream), then the upstream's status, headers and body chunks.
/// </summary>
internal sealed record RequestSpec
{
    public string Method { get; init; } = "GET";

    public string Path { get; init; } = "/";

    public (string Name, string Value)[] Headers { get; init; } = [];

    public string[] RequestBody { get; init; } = [];

    public int Status { get; init; } = 200;

    public (string Name, string Value)[] ResponseHeaders { get; init; } = [];

    public string[] ResponseBody { get; init; } = [];

    /// <summary>Request headers phase called with end_of_stream even though a body follows (eos-only test triggers).</summary>
    public bool? RequestHeadersEos { get; init; }

    /// <summary>Response headers phase end_of_stream override.</summary>
    public bool? ResponseHeadersEos { get; init; }

    public static RequestSpec Get(string path = "/", params (string Name, string Value)[] headers) => new() { Path = path, Headers = headers };
}
