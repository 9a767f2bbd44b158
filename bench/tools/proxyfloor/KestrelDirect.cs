using System.Buffers;
using Microsoft.AspNetCore.Http;

namespace ProxyFloor;

/// <summary>Kestrel answering by itself what the upstream nginx answers (200, text/plain, "hello\n"): the floor under
/// any proxy built on Kestrel.</summary>
internal static class KestrelDirect
{
    private static readonly byte[] Hello = "hello\n"u8.ToArray();

    public static Task Handle(HttpContext context)
    {
        var response = context.Response;
        response.StatusCode = 200;
        response.ContentType = "text/plain";
        response.ContentLength = Hello.Length;
        // into the response pipe without a flush: Kestrel sends headers and body in one write when the app returns
        response.BodyWriter.Write(Hello);
        return Task.CompletedTask;
    }
}
