using Gatehouse.Config;
using Microsoft.AspNetCore.Hosting;

namespace Gatehouse.Hosting;

/// <summary>
/// <c>inline_io</c>: Kestrel runs the application on the socket I/O thread that read the request, and the
/// runtime's socket engine runs completions (upstream responses included) on its event threads — together one
/// event loop per core instead of a thread-pool hop at every read.
/// </summary>
internal static class InlineIo
{
    /// <summary>The runtime reads this once, when the first socket is used; only a process's entry point can set
    /// it in time, so <see cref="ApplyToProcess"/> is called by <c>start</c> before anything opens a socket.</summary>
    internal const string SocketEngineVariable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>Sets the socket engine's switch unless the operator set the variable themselves.</summary>
    public static void ApplyToProcess(GatehouseOptions options)
    {
        if (options.InlineIo && Environment.GetEnvironmentVariable(SocketEngineVariable) is null)
            Environment.SetEnvironmentVariable(SocketEngineVariable, "1");
    }

    public static void Configure(IWebHostBuilder builder, GatehouseOptions options) =>
        builder.UseSockets(s => s.UnsafePreferInlineScheduling = options.InlineIo);
}
