namespace Gatehouse.Hosting;

/// <summary>
/// <c>&lt;prefix&gt;/gatehouse.id</c> (Kong: <c>&lt;prefix&gt;/kong.id</c>): the node id kept across restarts. Kong 3.9
/// keeps it for data planes only; every Gatehouse node keeps it. The <c>node_id</c> conf key, when set, wins (Kong
/// 3.9's precedence; deprecated there).
/// </summary>
public static class NodeIdFile
{
    public const string FileName = "gatehouse.id";

    /// <summary>The id in the file, or a new one written to it. A file that is not a UUID is replaced (as Kong);
    /// <paramref name="warning"/> says why the id could not be kept (it is then this process's only).</summary>
    public static Guid Resolve(string prefix, out string? warning)
    {
        warning = null;
        var path = Path.Combine(prefix, FileName);
        try
        {
            if (File.Exists(path) && Guid.TryParse(File.ReadAllText(path).Trim(), out var kept)) return kept;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            warning = $"failed to access file {path}: {e.Message}";
        }
        var id = Guid.NewGuid();
        try
        {
            Directory.CreateDirectory(prefix);
            File.WriteAllText(path, id.ToString());
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            warning = $"failed to persist node_id to {path}: {e.Message}";
        }
        return id;
    }
}
