using System.Buffers;

namespace ProxyWasm.Http;

/// <summary>
/// A growable byte buffer holding the body bytes a filter currently sees (the current chunk, or everything
/// accumulated while the filter asked to buffer). The embedder appends chunks; the filter reads and splices.
/// One growth strategy for every mutation: capacity at least doubles when it must grow, and edits that fit are made
/// in place, so appending a body chunk by chunk (embedder or guest) costs O(n) copies in total.
/// Its storage is rented from <see cref="ArrayPool{T}.Shared"/>; the embedder gives it back with <see cref="Release"/>
/// once nothing can read the buffer any more (no guest callback of the stream left, no view of <see cref="Memory"/>
/// in use). A buffer never released is left to the GC, as any unreturned pooled array.
/// </summary>
public sealed class BodyBuffer
{
    private byte[] _data = [];
    private int _length;

    /// <summary>Current length in bytes.</summary>
    public int Length => _length;

    /// <summary>Changes with every mutation: an embedder compares it around a guest call to learn whether the filter
    /// edited the body (and only then copies it back).</summary>
    public int Version { get; private set; }

    /// <summary>The current content; invalidated by the next mutation.</summary>
    public ReadOnlySpan<byte> Span => _data.AsSpan(0, _length);

    /// <summary>The current content as memory; invalidated by the next mutation.</summary>
    public ReadOnlyMemory<byte> Memory => _data.AsMemory(0, _length);

    /// <summary>A copy of the current content.</summary>
    public byte[] ToArray() => Span.ToArray();

    /// <summary>Appends a chunk (embedder side, while buffering).</summary>
    public void Append(ReadOnlySpan<byte> chunk) => Splice(_length, 0, chunk);

    /// <summary>Replaces the whole content.</summary>
    public void Set(ReadOnlySpan<byte> content) => Splice(0, _length, content);

    /// <summary>Empties the buffer (embedder side, after forwarding a chunk).</summary>
    public void Clear()
    {
        _length = 0;
        Version++;
    }

    /// <summary>Empties the buffer and returns its storage to the pool (embedder side, at the stream's end); the buffer
    /// stays usable (it rents again on the next write).</summary>
    public void Release()
    {
        var data = _data;
        _data = [];
        _length = 0;
        Version++;
        if (data.Length > 0) ArrayPool<byte>.Shared.Return(data);
    }

    /// <summary>
    /// <c>new = old[0..start] + data + old[min(len, start+size)..]</c> — the general splice of spec §1.6
    /// (prepend = (0,0), append = start ≥ len, replace-all = (0, len)). <paramref name="data"/> must not be a view of
    /// this buffer.
    /// </summary>
    public void Splice(int start, int size, ReadOnlySpan<byte> data)
    {
        int s = Math.Min(Math.Max(start, 0), _length);
        int e = (int)Math.Min((long)_length, (long)s + Math.Max(size, 0));
        int tail = _length - e;
        long newLength = (long)s + data.Length + tail;
        if (newLength > Array.MaxLength) throw new InvalidOperationException("body buffer too large");
        if (newLength <= _data.Length)
        {
            _data.AsSpan(e, tail).CopyTo(_data.AsSpan(s + data.Length)); // memmove: overlapping is fine
        }
        else
        {
            // the first write rents what it needs (a body that arrives whole is held in a buffer of its size); growth
            // at least doubles
            long wanted = _data.Length == 0 ? Math.Max(newLength, 16L) : Math.Max(newLength, 2L * _data.Length);
            var grown = ArrayPool<byte>.Shared.Rent((int)Math.Min(Array.MaxLength, wanted));
            _data.AsSpan(0, s).CopyTo(grown);
            _data.AsSpan(e, tail).CopyTo(grown.AsSpan(s + data.Length));
            var old = _data;
            _data = grown;
            if (old.Length > 0) ArrayPool<byte>.Shared.Return(old);
        }
        data.CopyTo(_data.AsSpan(s));
        _length = (int)newLength;
        Version++;
    }
}
