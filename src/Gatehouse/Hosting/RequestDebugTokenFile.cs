using Gatehouse.Proxy;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Hosting;

/// <summary>
/// <c>&lt;prefix&gt;/.request_debug_token</c>: the token of request debugging (<see cref="RequestDebug"/>), written at
/// every start when request_debug is on (Kong replaces the file of an earlier start), so an operator can read a
/// generated token. When request_debug is off a file of an earlier start is removed (Kong leaves it), so no stale
/// token is mistaken for a live one.
/// </summary>
internal static partial class RequestDebugTokenFile
{
    public static void Apply(string prefix, RequestDebug debug, ILogger logger)
    {
        var path = Path.Combine(prefix, RequestDebug.TokenFileName);
        try
        {
            if (!debug.Enabled)
            {
                File.Delete(path);
                return;
            }
            Directory.CreateDirectory(prefix);
            File.WriteAllText(path, debug.Token);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            WriteFailed(logger, path, e.Message);
        }
        if (debug.Enabled) debug.LogToken();
    }

    [LoggerMessage(1040, LogLevel.Error, "failed to write {Path} (request debugging token): {Reason}")]
    private static partial void WriteFailed(ILogger logger, string path, string reason);
}
