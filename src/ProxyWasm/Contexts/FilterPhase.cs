namespace ProxyWasm.Contexts;

/// <summary>Where an HTTP filter context is in the request (spec §2.3 order).</summary>
internal enum FilterPhase
{
    Created = 0,
    RequestHeaders = 1,
    RequestBody = 2,
    RequestTrailers = 3,
    ResponseHeaders = 4,
    ResponseBody = 5,
    ResponseTrailers = 6,
    Done = 7,
}
