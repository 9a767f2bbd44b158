using System.Security.Cryptography;
using System.Text;

namespace Gatehouse.Store.Declarative;

/// <summary>Name-based UUIDs (RFC 4122 v5) so that declarative entities without ids keep stable ids across reloads.</summary>
internal static class Uuid5
{
    /// <summary>Kong's "_entities" namespace for generated declarative ids.</summary>
    public static readonly Guid EntitiesNamespace = Guid.Parse("fd02801f-0957-4a15-a55a-c8d9606f30b5");

    public static Guid Create(Guid ns, string name)
    {
        var nsBytes = ns.ToByteArray(bigEndian: true);
        var nameBytes = Encoding.UTF8.GetBytes(name);
        var hash = SHA1.HashData([.. nsBytes, .. nameBytes]);
        var bytes = hash.AsSpan(0, 16).ToArray();
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x50);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes, bigEndian: true);
    }
}
