using System.Reflection;

namespace Gatehouse;

/// <summary>The program's one version source: Gatehouse's own release (from &lt;Version&gt; in Gatehouse.csproj) and
/// the Kong Gateway release whose Admin API, conf keys and bundled plugins it implements. <c>version</c>/<c>--version</c>,
/// <c>GET /</c>, the Server and Via headers, plugin versions and the <c>kong.version</c> property all read it.</summary>
public static class GatehouseVersion
{
    /// <summary>Gatehouse's own version (<c>gatehouse_version</c> in <c>GET /</c>, the Server/Via token).</summary>
    public static string Current { get; } =
        typeof(GatehouseVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? "0.0.0";

    /// <summary>The Kong release implemented: <c>version</c> in <c>GET /</c> (tools such as decK choose their behaviour
    /// by it) and every bundled plugin's version, as Kong's bundled plugins report Kong's own.</summary>
    public const string Kong = "3.9.3";
}
