using System.Buffers.Binary;
using System.Text;
using ProxyWasm.Http;
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
    /// <summary>
    /// The guest's whole linear memory as one span (two native calls per host call instead of several per
    /// access). Valid until the guest runs again: re-acquire after <see cref="WasmVm.Allocate"/>. Memory beyond
    /// 2 GiB is out of reach of a span and reads as out of bounds (the default memory limit is far below).
    /// </summary>
    public static Span<byte> Of(Caller caller, WasmVm vm)
    {
        var memory = vm.Memory ?? caller.GetMemory("memory") ?? throw new InvalidOperationException("module exports no memory");
        long length = memory.GetLength();
        unsafe
        {
            return length == 0 ? default : new Span<byte>((void*)memory.GetPointer(), (int)Math.Min(length, int.MaxValue));
        }
    }

    public static bool TryRead(Span<byte> memory, int ptr, int len, out ReadOnlySpan<byte> span)
    {
        span = default;
        if (len == 0) return true;
        if ((ulong)(uint)ptr + (uint)len > (ulong)memory.Length) return false;
        span = memory.Slice(ptr, len);
        return true;
    }

    /// <summary>Writable guest bytes at <paramref name="ptr"/> (e.g. to fill in place); false when out of bounds.</summary>
    public static bool TryWritable(Span<byte> memory, int ptr, int len, out Span<byte> span)
    {
        span = default;
        if (len == 0) return true;
        if ((ulong)(uint)ptr + (uint)len > (ulong)memory.Length) return false;
        span = memory.Slice(ptr, len);
        return true;
    }

    public static bool TryReadString(Span<byte> memory, int ptr, int len, out string value)
    {
        if (!TryRead(memory, ptr, len, out var span)) { value = ""; return false; }
        value = span.IsEmpty ? "" : Encoding.UTF8.GetString(span);
        return true;
    }

    /// <summary>A header name or value: one char per byte (<see cref="HeaderBytes"/>).</summary>
    public static bool TryReadHeader(Span<byte> memory, int ptr, int len, out string value)
    {
        if (!TryRead(memory, ptr, len, out var span)) { value = ""; return false; }
        value = HeaderBytes.Read(span);
        return true;
    }

    public static bool TryReadU32(Span<byte> memory, int ptr, out uint value)
    {
        value = 0;
        if (!TryRead(memory, ptr, 4, out var span)) return false;
        value = BinaryPrimitives.ReadUInt32LittleEndian(span);
        return true;
    }

    public static bool TryWriteU32(Span<byte> memory, int ptr, uint value)
    {
        if (!TryWritable(memory, ptr, 4, out var span)) return false;
        BinaryPrimitives.WriteUInt32LittleEndian(span, value);
        return true;
    }

    public static bool TryWriteU64(Span<byte> memory, int ptr, ulong value)
    {
        if (!TryWritable(memory, ptr, 8, out var span)) return false;
        BinaryPrimitives.WriteUInt64LittleEndian(span, value);
        return true;
    }

    public static bool TryWriteBytes(Span<byte> memory, int ptr, ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty) return true;
        if (!TryWritable(memory, ptr, data.Length, out var span)) return false;
        data.CopyTo(span);
        return true;
    }

    /// <summary>
    /// The "return value" protocol of spec §1.3: allocate exactly <paramref name="length"/> bytes with the guest's
    /// allocator (none for 0 → 0/0), write address and size to the two return slots, and hand back the allocated
    /// guest bytes for the caller to fill at once (valid until the guest runs again).
    /// </summary>
    public static WasmResult Reserve(Caller caller, WasmVm vm, int length, int retPtrPtr, int retSizePtr, out Span<byte> target)
    {
        target = default;
        if (!CheckSlots(LengthOf(caller, vm), retPtrPtr, retSizePtr)) return WasmResult.InvalidMemoryAccess;
        int address = 0;
        if (length > 0)
        {
            address = vm.Allocate(length);
            if (address == 0) return WasmResult.InvalidMemoryAccess;
        }
        var memory = Of(caller, vm); // the allocator may have grown (moved) memory
        if (!TryWritable(memory, address, length, out target)) return WasmResult.InvalidMemoryAccess;
        return WriteSlots(memory, retPtrPtr, retSizePtr, address, length);
    }

    /// <summary><see cref="Reserve"/> + copy. <paramref name="data"/> must not point into guest memory (the allocator may move it).</summary>
    public static WasmResult CopyOut(Caller caller, WasmVm vm, ReadOnlySpan<byte> data, int retPtrPtr, int retSizePtr)
    {
        var result = Reserve(caller, vm, data.Length, retPtrPtr, retSizePtr, out var target);
        if (result == WasmResult.Ok) data.CopyTo(target);
        return result;
    }

    /// <summary><see cref="Reserve"/> + UTF-8 encoding straight into the guest's allocation (no host buffer).</summary>
    public static WasmResult CopyOutString(Caller caller, WasmVm vm, string value, int retPtrPtr, int retSizePtr)
    {
        var result = Reserve(caller, vm, Encoding.UTF8.GetByteCount(value), retPtrPtr, retSizePtr, out var target);
        if (result == WasmResult.Ok) Encoding.UTF8.GetBytes(value, target);
        return result;
    }

    /// <summary><see cref="Reserve"/> + a header value's bytes straight into the guest's allocation.</summary>
    public static WasmResult CopyOutHeader(Caller caller, WasmVm vm, string value, int retPtrPtr, int retSizePtr)
    {
        var result = Reserve(caller, vm, value.Length, retPtrPtr, retSizePtr, out var target);
        if (result == WasmResult.Ok) HeaderBytes.Write(value, target);
        return result;
    }

    /// <summary>Current memory size (one native call; enough where no bytes are touched yet).</summary>
    private static long LengthOf(Caller caller, WasmVm vm)
        => Math.Min((vm.Memory ?? caller.GetMemory("memory") ?? throw new InvalidOperationException("module exports no memory")).GetLength(), int.MaxValue);

    private static bool CheckSlots(long memoryLength, int retPtrPtr, int retSizePtr)
        => (ulong)(uint)retPtrPtr + 4 <= (ulong)memoryLength && (ulong)(uint)retSizePtr + 4 <= (ulong)memoryLength;

    private static WasmResult WriteSlots(Span<byte> memory, int retPtrPtr, int retSizePtr, int address, int length)
    {
        if (!TryWriteU32(memory, retPtrPtr, (uint)address) || !TryWriteU32(memory, retSizePtr, (uint)length)) return WasmResult.InvalidMemoryAccess;
        return WasmResult.Ok;
    }
}
