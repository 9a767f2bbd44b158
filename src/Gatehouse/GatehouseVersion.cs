using System.Reflection;

namespace Gatehouse;

/// <summary>The product version, from the assembly (set by &lt;Version&gt; in Gatehouse.csproj).</summary>
public static class GatehouseVersion
{
    public static string Current { get; } =
        typeof(GatehouseVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? "0.0.0";
}
