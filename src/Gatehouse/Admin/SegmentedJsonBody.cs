using System.Buffers;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Admin;

/// <summary>
/// A response body written in pooled 64 KiB segments, then sent with its Content-Length. For answers of tens of MB
/// (POST /config of 100,000 routes): one string of the whole answer was twice its size as UTF-16, plus the doubling
/// buffer it was built in, all on the large-object heap at the peak of the load.
/// </summary>
internal sealed class SegmentedJsonBody : IBufferWriter<byte>, IDisposable
{
    private const int SegmentSize = 64 << 10;
    private readonly List<(byte[] Array, int Length)> _full = [];
    private byte[]? _current;
    private int _used;

    public long Length { get; private set; }

    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (_current is null || _used + count > _current.Length) throw new InvalidOperationException("advanced past the buffer");
        _used += count;
        Length += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0) => Ensure(sizeHint).AsMemory(_used);

    public Span<byte> GetSpan(int sizeHint = 0) => Ensure(sizeHint).AsSpan(_used);

    private byte[] Ensure(int sizeHint)
    {
        var need = Math.Max(sizeHint, 1);
        if (_current is not null && _current.Length - _used >= need) return _current;
        if (_current is not null) _full.Add((_current, _used));
        _current = ArrayPool<byte>.Shared.Rent(Math.Max(need, SegmentSize));
        _used = 0;
        return _current;
    }

    /// <summary>Sends the body with <paramref name="status"/>, <paramref name="contentType"/> and its Content-Length.</summary>
    public async Task SendAsync(HttpResponse response, int status, string contentType)
    {
        response.StatusCode = status;
        response.ContentType = contentType;
        response.ContentLength = Length;
        foreach (var (array, length) in _full) await response.Body.WriteAsync(array.AsMemory(0, length), response.HttpContext.RequestAborted);
        if (_current is not null) await response.Body.WriteAsync(_current.AsMemory(0, _used), response.HttpContext.RequestAborted);
    }

    public void Dispose()
    {
        foreach (var (array, _) in _full) ArrayPool<byte>.Shared.Return(array);
        _full.Clear();
        if (_current is not null) ArrayPool<byte>.Shared.Return(_current);
        _current = null;
    }
}
