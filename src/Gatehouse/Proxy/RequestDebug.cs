using System.Net;
using System.Security.Cryptography;
using System.Text;
using Gatehouse.Config;
using Gatehouse.Proxy.Pipeline;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Proxy;

/// <summary>
/// Kong's request debugging (<c>request_debug</c>, <c>kong/timing/init.lua</c>): a request with
/// <c>X-Kong-Request-Debug: *</c> (or ours, <c>X-Gatehouse-Request-Debug: *</c>) from a loopback client, or with the
/// right <c>X-Kong-Request-Debug-Token</c>, gets its timings in <c>X-Kong-Request-Debug-Output</c>, and in the log when
/// <c>X-Kong-Request-Debug-Log: true</c>. The request headers are removed whatever their value, so they never reach the
/// upstream. The token is <c>request_debug_token</c>, or a random UUID per start (Kong's), written to
/// <c>&lt;prefix&gt;/.request_debug_token</c> by the host.
/// </summary>
public sealed partial class RequestDebug
{
    public const string DebugHeader = "X-Kong-Request-Debug";
    public const string GatehouseDebugHeader = "X-Gatehouse-Request-Debug";
    public const string TokenHeader = "X-Kong-Request-Debug-Token";
    public const string LogHeader = "X-Kong-Request-Debug-Log";
    public const string OutputHeader = "X-Kong-Request-Debug-Output";
    public const string TokenFileName = ".request_debug_token";
    /// <summary>Kong truncates a header output of 2 KB or more for a non-loopback client (proxies limit header size)
    /// and splits a log output into parts of 3 KB.</summary>
    private const int HeaderTruncateLength = 2 * 1024;
    private const int LogPartLength = 3 * 1024;

    private readonly byte[] _token;
    private readonly ILogger<RequestDebug> _logger;

    public RequestDebug(GatehouseOptions options, ILogger<RequestDebug> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        Enabled = options.RequestDebug;
        Token = options.RequestDebugToken ?? Guid.NewGuid().ToString();
        _token = Encoding.UTF8.GetBytes(Token);
        _logger = logger;
    }

    public bool Enabled { get; }
    /// <summary>The token a non-loopback client must send (request_debug_token, or generated at start).</summary>
    public string Token { get; }

    /// <summary>The trace for this request when it asked for one and may have it, else null. Called once before the
    /// rewrite phase; removes the debug request headers.</summary>
    internal RequestDebugTrace? Begin(HttpContext http)
    {
        var headers = http.Request.Headers;
        // the common request has none of them: Remove on Kestrel's header collection is a lookup, no allocation
        headers.Remove(DebugHeader, out var debug);
        headers.Remove(GatehouseDebugHeader, out var gatehouseDebug);
        headers.Remove(TokenHeader, out var token);
        headers.Remove(LogHeader, out var log);
        if (debug.ToString() != "*" && gatehouseDebug.ToString() != "*") return null;
        var loopback = IsLoopback(http.Connection.RemoteIpAddress);
        if (!loopback && !TokenMatches(token.ToString())) return null;
        return new RequestDebugTrace(http.TraceIdentifier, log.ToString() == "true", loopback);
    }

    private bool TokenMatches(string sent) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(sent), _token);

    /// <summary>Kong's rule: 127.0.0.0/8 or ::1 (an IPv4-mapped 127.x on a dual-stack socket too).</summary>
    private static bool IsLoopback(IPAddress? address)
    {
        if (address is null) return false;
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        return IPAddress.IsLoopback(address);
    }

    /// <summary>After the response headers phase: the output header (Kong's, with the upstream's time to first byte).</summary>
    internal static void AddOutputHeader(RequestDebugTrace trace, ProxyContext context)
    {
        SetUpstream(trace, context, withStreaming: false);
        var output = trace.ToJson();
        if (output.Length >= HeaderTruncateLength && !trace.Loopback)
        {
            output = TruncatedOutput(trace.RequestId);
            trace.Log = true;
        }
        context.HttpContext.Response.Headers[OutputHeader] = output;
    }

    /// <summary>After the log phase: the output in the log when asked (or truncated in the header), in 3 KB parts.</summary>
    internal void WriteLog(RequestDebugTrace trace, ProxyContext context)
    {
        if (!trace.Log) return;
        SetUpstream(trace, context, withStreaming: true);
        var output = trace.ToJson();
        if (output.Length < LogPartLength)
        {
            LogOutput(_logger, output);
            return;
        }
        var parts = (output.Length + LogPartLength - 1) / LogPartLength;
        for (var i = 0; i < parts; i++)
            LogOutputPart(_logger, i + 1, parts, output.Substring(i * LogPartLength, Math.Min(LogPartLength, output.Length - i * LogPartLength)));
    }

    internal void LogToken() => LogTokenForDebugging(_logger, Token);

    /// <summary>Kong's <c>upstream</c> span: time to first byte (headers), and in the log the streaming of the body
    /// after it; absent when no upstream answered.</summary>
    private static void SetUpstream(RequestDebugTrace trace, ProxyContext context, bool withStreaming)
    {
        var t = context.Timings;
        if (t.UpstreamStart == 0 || t.UpstreamHeaders == 0) return;
        var firstByte = (long)t.Elapsed(t.UpstreamStart, t.UpstreamHeaders).TotalMilliseconds;
        long? streaming = withStreaming && t.End != 0 ? (long)t.Elapsed(t.UpstreamHeaders, t.End).TotalMilliseconds : null;
        trace.SetUpstream(firstByte, streaming);
    }

    private static string TruncatedOutput(string requestId)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var json = new System.Text.Json.Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteBoolean("truncated", true);
            json.WriteString("request_id", requestId);
            json.WriteString("message", "Output is truncated, please check the error_log for full output by filtering with the request_id.");
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    [LoggerMessage(1030, LogLevel.Information, "[request-debug] output: {Output}")]
    private static partial void LogOutput(ILogger logger, string output);

    [LoggerMessage(1031, LogLevel.Information, "[request-debug] parts: {Part}/{Parts} output: {Output}")]
    private static partial void LogOutputPart(ILogger logger, int part, int parts, string output);

    [LoggerMessage(1032, LogLevel.Information, "[request-debug] token for request debugging: {Token}")]
    private static partial void LogTokenForDebugging(ILogger logger, string token);
}
