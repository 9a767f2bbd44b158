namespace ProxyWasm.Http;

/// <summary>
/// A growable byte buffer holding the body bytes a filter currently sees (the current chunk, or everything
/// accumulated while the filter asked to buffer). The embedder appends chunks; the filter reads and splices.
/// </summary>
public sealed class BodyBuffer
{
    private byte[] _data = [];
    private int _length;

    /// <summary>Current length in bytes.</summary>
    public int Length => _length;

    /// <summary>The current content; invalidated by the next mutation.</summary>
    public ReadOnlySpan<byte> Span => _data.AsSpan(0, _length);

    /// <summary>A copy of the current content.</summary>
    public byte[] ToArray() => Span.ToArray();

    /// <summary>Appends a chunk (embedder side, while buffering).</summary>
    public void Append(ReadOnlySpan<byte> chunk)
    {
        EnsureCapacity(_length + chunk.Length);
        chunk.CopyTo(_data.AsSpan(_length));
        _length += chunk.Length;
    }

    /// <summary>Replaces the whole content.</summary>
    public void Set(ReadOnlySpan<byte> content)
    {
        _length = 0;
        Append(content);
    }

    /// <summary>Empties the buffer (embedder side, after forwarding a chunk).</summary>
    public void Clear() => _length = 0;

    /// <summary>
    /// <c>new = old[0..start] + data + old[min(len, start+size)..]</c> — the general splice of spec §1.6
    /// (prepend = (0,0), append = start ≥ len, replace-all = (0, len)).
    /// </summary>
    public void Splice(int start, int size, ReadOnlySpan<byte> data)
    {
        int s = Math.Min(start, _length);
        int e = (int)Math.Min((long)_length, (long)s + size);
        int tail = _length - e;
        int newLength = s + data.Length + tail;
        var target = newLength <= _data.Length && data.Length == e - s ? _data : new byte[Math.Max(newLength, 16)];
        if (!ReferenceEquals(target, _data))
        {
            _data.AsSpan(0, s).CopyTo(target);
            _data.AsSpan(e, tail).CopyTo(target.AsSpan(s + data.Length));
        }
        data.CopyTo(target.AsSpan(s));
        _data = target;
        _length = newLength;
    }

    private void EnsureCapacity(int needed)
    {
        if (needed <= _data.Length) return;
        Array.Resize(ref _data, Math.Max(needed, Math.Max(16, _data.Length * 2)));
    }
}
