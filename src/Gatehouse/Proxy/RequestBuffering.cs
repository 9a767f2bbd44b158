using Gatehouse.Proxy.Pipeline;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Gatehouse.Proxy;

/// <summary>
/// route.request_buffering (nginx's proxy_request_buffering on): the request body is read to its end before the
/// upstream is contacted, held in a <see cref="SpillBuffer"/> (memory, then a temporary file; no size limit, as
/// Kong's client_max_body_size 0), and sent with Content-Length, also when the client sent it chunked. The buffer
/// keeps the body until the request ends, so a retry on the next peer sends it again (<see cref="NextUpstream"/>).
/// </summary>
internal static class RequestBuffering
{
    /// <summary>The body, ready to be sent (the request now reads from it); null when the client went away.</summary>
    /// <param name="clientBody">true when <c>HttpRequest.Body</c> is still the server's own (no request-body handler
    /// reads it): a small body that has already arrived whole is then taken from the server's buffer at once</param>
    /// <param name="handlers">the request-body handlers' stream in place of <c>HttpRequest.Body</c>, if any: when they
    /// make the whole body before any of it is read (a small body, or one they buffer), it is held as they made it</param>
    public static ValueTask<SpillBuffer?> ReadAsync(ProxyContext context, string tempDirectory, bool clientBody = false,
        RequestBodyFilterStream? handlers = null)
    {
        if (clientBody && TakeReceived(context.HttpContext, tempDirectory) is { } received)
        {
            Hold(context, received);
            return ValueTask.FromResult<SpillBuffer?>(received);
        }
        return ReadToEndAsync(context, tempDirectory, handlers);
    }

    /// <summary>
    /// An HTTP/1.x body with a Content-Length of at most <see cref="SpillBuffer.MemoryLimit"/> that the server has
    /// already received whole (it usually comes in the head's packets): copied from the server's buffer into one pooled
    /// array, with no read loop, read buffer or end-of-stream read. Null (nothing consumed) for any other body, which
    /// <see cref="ReadToEndAsync"/> reads as before. HTTP/2 and HTTP/3 bodies are not taken: trailers may follow them.
    /// </summary>
    private static SpillBuffer? TakeReceived(HttpContext http, string tempDirectory)
    {
        var request = http.Request;
        if (request.ContentLength is not (> 0 and <= SpillBuffer.MemoryLimit) || request.Headers.TransferEncoding.Count > 0
            || !(HttpProtocol.IsHttp11(request.Protocol) || HttpProtocol.IsHttp10(request.Protocol)))
            return null;
        var reader = request.BodyReader;
        System.IO.Pipelines.ReadResult result;
        try
        {
            if (!reader.TryRead(out result)) return null;
        }
        catch
        {
            return null; // the read loop meets the same failure and answers it as always (400, client gone)
        }
        var received = result.Buffer;
        if (received.Length != request.ContentLength)
        {
            reader.AdvanceTo(received.Start); // nothing consumed: the read loop starts from these bytes
            return null;
        }
        var body = SpillBuffer.Holding(tempDirectory, received);
        reader.AdvanceTo(received.End);
        return body;
    }

    private static async ValueTask<SpillBuffer?> ReadToEndAsync(ProxyContext context, string tempDirectory, RequestBodyFilterStream? handlers)
    {
        var http = context.HttpContext;
        if (handlers is not null)
        {
            // the handlers run on the first reads (as the loop below would run them); a body they completed before any
            // of it was read is held in one array, without the loop's read chunk, appends and end-of-stream read
            try { await PrimeClientAsync(http, handlers); }
            catch (Exception e) when (http.RequestAborted.IsCancellationRequested || context.LocalResponse is not null)
            {
                context.Error ??= http.RequestAborted.IsCancellationRequested ? e : null;
                return null;
            }
            if (handlers.CompleteLength is <= SpillBuffer.MemoryLimit)
            {
                var whole = SpillBuffer.Holding(tempDirectory, new System.Buffers.ReadOnlySequence<byte>(handlers.CompleteBody));
                handlers.ConsumeComplete();
                http.Request.Headers.Remove(HeaderNames.TransferEncoding);
                http.Request.Headers.ContentLength = whole.Length;
                Hold(context, whole);
                return whole;
            }
        }
        var body = new SpillBuffer(tempDirectory, long.MaxValue, http.Request.ContentLength);
        var chunk = System.Buffers.ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int n;
            while ((n = await ReadClientAsync(http, chunk)) > 0)
                await body.AppendAsync(chunk.AsMemory(0, n), http.RequestAborted);
        }
        catch (Exception e) when (http.RequestAborted.IsCancellationRequested || context.LocalResponse is not null)
        {
            // the client went away, or a request-body handler answered (its local response is written next)
            context.Error ??= http.RequestAborted.IsCancellationRequested ? e : null;
            await body.DisposeAsync();
            return null;
        }
        catch
        {
            await body.DisposeAsync();
            throw;
        }
        finally { System.Buffers.ArrayPool<byte>.Shared.Return(chunk); }
        body.Complete();
        http.Request.Headers.Remove(HeaderNames.TransferEncoding);
        http.Request.Headers.ContentLength = body.Length;
        Hold(context, body);
        return body;
    }

    /// <summary>The request reads from the completed body from now on; kept on the context until the request ends.</summary>
    private static void Hold(ProxyContext context, SpillBuffer body)
    {
        context.HttpContext.Request.Body = body.OpenCompleted();
        context.RequestBodyBuffered = true;
        context.HeldRequestBody = body;
    }

    /// <summary>
    /// route.request_buffering off with request-body handlers: the handlers run on the first reads before the upstream
    /// is contacted (<see cref="RequestBodyFilterStream.PrimeAsync"/>). When the body ended before any output (a
    /// handler held it, or it came whole), it is sent with Content-Length, also when the client sent it chunked;
    /// otherwise it streams on, chunked. False when the client went away or a handler answered.
    /// </summary>
    public static async Task<bool> PrimeAsync(ProxyContext context, RequestBodyFilterStream body)
    {
        var http = context.HttpContext;
        try { await body.PrimeAsync(http.RequestAborted); }
        catch (Exception e) when (http.RequestAborted.IsCancellationRequested || context.LocalResponse is not null)
        {
            context.Error ??= http.RequestAborted.IsCancellationRequested ? e : null;
            return false;
        }
        if (body.CompleteLength is { } length)
        {
            http.Request.Headers.Remove(HeaderNames.TransferEncoding);
            http.Request.Headers.ContentLength = length;
            context.RequestBodyBuffered = true;
        }
        return true;
    }

    /// <summary>As <see cref="ReadClientAsync"/>, for the handlers' first reads.</summary>
    private static async ValueTask PrimeClientAsync(HttpContext http, RequestBodyFilterStream handlers)
    {
        try { await handlers.PrimeAsync(http.RequestAborted); }
        catch (Exception e) when (e is not BadHttpRequestException && e is not OperationCanceledException
            && !http.RequestAborted.IsCancellationRequested && http.Features.Get<ProxyContext>()?.LocalResponse is null)
        {
            throw new BadHttpRequestException("invalid request body", StatusCodes.Status400BadRequest, e);
        }
    }

    /// <summary>A body the server cannot read (bad chunk framing, …) is the client's fault: 400, as when the
    /// forwarder reads it unbuffered.</summary>
    private static async ValueTask<int> ReadClientAsync(HttpContext http, byte[] chunk)
    {
        try { return await http.Request.Body.ReadAsync(chunk, http.RequestAborted); }
        catch (Exception e) when (e is not BadHttpRequestException && e is not OperationCanceledException
            && !http.RequestAborted.IsCancellationRequested && http.Features.Get<ProxyContext>()?.LocalResponse is null)
        {
            throw new BadHttpRequestException("invalid request body", StatusCodes.Status400BadRequest, e);
        }
    }
}
