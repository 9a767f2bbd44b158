using System.Buffers;
using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace Gatehouse.Proxy.Balancing;

/// <summary>xxHash32 with seed 0 (the hash Kong 3.9's consistent-hashing balancer puts keys and ring points
/// through), written from the xxHash specification. Allocation-free for keys up to 512 characters.</summary>
internal static class XxHash32
{
    private const uint Prime1 = 2654435761U, Prime2 = 2246822519U, Prime3 = 3266489917U, Prime4 = 668265263U, Prime5 = 374761393U;
    private const int StackLimit = 512;

    /// <summary>The hash of <paramref name="text"/>'s UTF-8 bytes.</summary>
    public static uint Hash(string text)
    {
        if (text.Length <= StackLimit)
        {
            Span<byte> buffer = stackalloc byte[StackLimit * 3];
            return Hash(buffer[..Encoding.UTF8.GetBytes(text, buffer)]);
        }
        var rented = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(text.Length));
        try { return Hash(rented.AsSpan(0, Encoding.UTF8.GetBytes(text, rented))); }
        finally { ArrayPool<byte>.Shared.Return(rented); }
    }

    public static uint Hash(ReadOnlySpan<byte> data)
    {
        var length = (uint)data.Length;
        uint acc;
        if (data.Length >= 16)
        {
            uint v1 = unchecked(Prime1 + Prime2), v2 = Prime2, v3 = 0, v4 = unchecked(0 - Prime1);
            while (data.Length >= 16)
            {
                v1 = Round(v1, BinaryPrimitives.ReadUInt32LittleEndian(data));
                v2 = Round(v2, BinaryPrimitives.ReadUInt32LittleEndian(data[4..]));
                v3 = Round(v3, BinaryPrimitives.ReadUInt32LittleEndian(data[8..]));
                v4 = Round(v4, BinaryPrimitives.ReadUInt32LittleEndian(data[12..]));
                data = data[16..];
            }
            acc = BitOperations.RotateLeft(v1, 1) + BitOperations.RotateLeft(v2, 7) + BitOperations.RotateLeft(v3, 12) + BitOperations.RotateLeft(v4, 18);
        }
        else
        {
            acc = Prime5;
        }
        acc += length;
        while (data.Length >= 4)
        {
            acc = BitOperations.RotateLeft(acc + BinaryPrimitives.ReadUInt32LittleEndian(data) * Prime3, 17) * Prime4;
            data = data[4..];
        }
        foreach (var b in data) acc = BitOperations.RotateLeft(acc + b * Prime5, 11) * Prime1;
        acc ^= acc >> 15;
        acc *= Prime2;
        acc ^= acc >> 13;
        acc *= Prime3;
        acc ^= acc >> 16;
        return acc;
    }

    private static uint Round(uint acc, uint lane) => BitOperations.RotateLeft(acc + lane * Prime2, 13) * Prime1;
}
