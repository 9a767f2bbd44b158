using System.Net;

namespace Gatehouse.Proxy.Balancing.Dns;

/// <summary>The names of a hosts file (<c>dns_hostsfile</c>), read once as Kong does: <c>address name [alias...]</c>
/// per line, <c>#</c> starts a comment, names compare case-insensitively, the first line naming a host wins per
/// address family. <c>localhost</c> resolves to the loopback addresses when the file does not name it.</summary>
public sealed class HostsFile
{
    private readonly Dictionary<string, List<IPAddress>> _names;

    private HostsFile(Dictionary<string, List<IPAddress>> names) => _names = names;

    public static HostsFile Empty { get; } = Parse([]);

    public static HostsFile Load(string? path) =>
        path is null || !File.Exists(path) ? Empty : Parse(File.ReadAllLines(path));

    public static HostsFile Parse(IEnumerable<string> lines)
    {
        var names = new Dictionary<string, List<IPAddress>>(StringComparer.OrdinalIgnoreCase);
        foreach (var raw in lines)
        {
            var hash = raw.IndexOf('#');
            var fields = (hash >= 0 ? raw[..hash] : raw).Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 2) continue;
            // a zone id (fe80::1%eth0) cannot be connected to from a target: skip such lines rather than fail
            if (fields[0].Contains('%') || !IPAddress.TryParse(fields[0], out var address)) continue;
            foreach (var name in fields.AsSpan(1))
            {
                if (!names.TryGetValue(name, out var list)) names[name] = list = [];
                if (!list.Any(a => a.AddressFamily == address.AddressFamily)) list.Add(address);
            }
        }
        if (!names.ContainsKey("localhost")) names["localhost"] = [IPAddress.Loopback, IPAddress.IPv6Loopback];
        return new HostsFile(names);
    }

    /// <summary>The addresses the file gives <paramref name="name"/>, IPv4 first; null when it does not name it.</summary>
    public IReadOnlyList<IPAddress>? Find(string name) =>
        _names.TryGetValue(name.TrimEnd('.'), out var list)
            ? list.OrderBy(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6).ToArray()
            : null;
}
