using System.Buffers.Binary;
using System.Text;
using ProxyWasm.Runtime;
using Wasmtime;

namespace ProxyWasm.Abi;

/// <summary>
/// The only place that touches guest linear memory. Every pointer/length is treated as unsigned 32-bit and
/// bounds-checked; failures become <see cref="WasmResult.InvalidMemoryAccess"/> (spec §1.3), never exceptions.
/// Spans are re-acquired after any call into the guest (the allocator may grow memory).
/// </summary>
internal static class GuestMemory
{
    public static Memory Of(Caller caller, WasmVm vm)
        => vm.Memory ?? caller.GetMemory("memory") ?? throw new InvalidOperationException("module exports no memory");

    public static bool TryRead(Memory memory, int ptr, int len, out ReadOnlySpan<byte> span)
    {
        span = default;
        if (len == 0) return true;
        if ((ulong)(uint)ptr + (uint)len > (ulong)memory.GetLength() || (uint)len > int.MaxValue) return false;
        span = memory.GetSpan((uint)ptr, len);
        return true;
    }

    public static bool TryReadString(Memory memory, int ptr, int len, out string value)
    {
        if (!TryRead(memory, ptr, len, out var span)) { value = ""; return false; }
        value = span.IsEmpty ? "" : Encoding.UTF8.GetString(span);
        return true;
    }

    public static bool TryReadU32(Memory memory, int ptr, out uint value)
    {
        value = 0;
        if (!TryRead(memory, ptr, 4, out var span)) return false;
        value = BinaryPrimitives.ReadUInt32LittleEndian(span);
        return true;
    }

    public static bool TryWriteU32(Memory memory, int ptr, uint value)
    {
        if ((ulong)(uint)ptr + 4 > (ulong)memory.GetLength()) return false;
        BinaryPrimitives.WriteUInt32LittleEndian(memory.GetSpan((uint)ptr, 4), value);
        return true;
    }

    public static bool TryWriteU64(Memory memory, int ptr, ulong value)
    {
        if ((ulong)(uint)ptr + 8 > (ulong)memory.GetLength()) return false;
        BinaryPrimitives.WriteUInt64LittleEndian(memory.GetSpan((uint)ptr, 8), value);
        return true;
    }

    public static bool TryWriteBytes(Memory memory, int ptr, ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty) return true;
        if ((ulong)(uint)ptr + (uint)data.Length > (ulong)memory.GetLength()) return false;
        data.CopyTo(memory.GetSpan((uint)ptr, data.Length));
        return true;
    }

    /// <summary>
    /// The "return value" protocol of spec §1.3: allocate exactly <c>data.Length</c> bytes with the guest's
    /// allocator (none for empty data → 0/0), copy, then write address and size to the two return slots.
    /// </summary>
    public static WasmResult CopyOut(Caller caller, WasmVm vm, ReadOnlySpan<byte> data, int retPtrPtr, int retSizePtr)
    {
        var memory = Of(caller, vm);
        if ((ulong)(uint)retPtrPtr + 4 > (ulong)memory.GetLength() || (ulong)(uint)retSizePtr + 4 > (ulong)memory.GetLength())
            return WasmResult.InvalidMemoryAccess;
        int address = 0;
        if (!data.IsEmpty)
        {
            address = vm.Allocate(data.Length);
            if (address == 0) return WasmResult.InvalidMemoryAccess;
            memory = Of(caller, vm); // may have grown
            if (!TryWriteBytes(memory, address, data)) return WasmResult.InvalidMemoryAccess;
        }
        TryWriteU32(memory, retPtrPtr, (uint)address);
        TryWriteU32(memory, retSizePtr, (uint)data.Length);
        return WasmResult.Ok;
    }
}
