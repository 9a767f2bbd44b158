using System.Security.Cryptography;
using System.Text;

namespace Gatehouse.Store.Declarative;

/// <summary>Name-based UUIDs (RFC 4122 v5) so that declarative entities without ids keep stable ids across reloads.</summary>
internal static class Uuid5
{
    /// <summary>Kong's "_entities" namespace for generated declarative ids.</summary>
    public static readonly Guid EntitiesNamespace = Guid.Parse("fd02801f-0957-4a15-a55a-c8d9606f30b5");

    /// <summary>SHA-1 of the namespace's bytes and the name's UTF-8, on the stack for a usual name (one per record of a
    /// declarative file without ids).</summary>
    public static Guid Create(Guid ns, string name)
    {
        var length = 16 + Encoding.UTF8.GetByteCount(name);
        Span<byte> input = length <= 256 ? stackalloc byte[length] : new byte[length];
        ns.TryWriteBytes(input, bigEndian: true, out _);
        Encoding.UTF8.GetBytes(name, input[16..]);
        Span<byte> hash = stackalloc byte[SHA1.HashSizeInBytes];
        SHA1.HashData(input, hash);
        hash[6] = (byte)((hash[6] & 0x0F) | 0x50);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash[..16], bigEndian: true);
    }
}
