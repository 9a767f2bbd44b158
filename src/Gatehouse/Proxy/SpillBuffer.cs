using System.Buffers;
using Microsoft.Win32.SafeHandles;

namespace Gatehouse.Proxy;

/// <summary>
/// A body held by the proxy (request_buffering, response_buffering), like nginx's body buffers: bytes in pooled
/// memory up to <see cref="MemoryLimit"/>, then in a temporary file under <c>&lt;prefix&gt;/proxy_temp</c>
/// (deleted on close) up to a file limit. One appender and one reader may run at the same time: the reader gets the
/// bytes in order and waits for more; the appender waits when the file is full until the reader has emptied it.
/// </summary>
internal sealed class SpillBuffer : IAsyncDisposable
{
    /// <summary>nginx's proxy_buffers (8 × 8k) hold the first bytes in memory; beyond them, the temporary file.</summary>
    internal const int MemoryLimit = 64 * 1024;
    private const int SegmentSize = 16 * 1024;

    private readonly string _tempDirectory;
    private readonly long _fileLimit;
    private readonly Lock _lock = new();
    // memory: pooled segments in order; the reader is at _headOffset of the first, the appender at _tailLength of the last
    private readonly Queue<byte[]> _memory = new();
    private byte[]? _tail;
    private int _headOffset, _tailLength, _memoryBytes;
    private SafeFileHandle? _file;
    // file mode: appends go to the file (after whatever is still in memory), in [_fileRead, _fileCommitted)
    private bool _fileMode;
    private long _fileRead, _fileCommitted;
    private bool _completed, _consumed;
    private volatile bool _disposed;
    private Exception? _failure;
    private TaskCompletionSource? _dataWaiter, _spaceWaiter;

    /// <param name="expectedLength">the body's length when known (a request's Content-Length): a body smaller than a
    /// segment gets one segment of about its size, so a 1 KiB POST does not take (or, when the pool is empty,
    /// allocate) 16 KiB</param>
    public SpillBuffer(string tempDirectory, long fileLimit, long? expectedLength = null)
    {
        _tempDirectory = tempDirectory;
        _fileLimit = fileLimit;
        _firstSegmentSize = expectedLength is > 0 and < SegmentSize ? (int)expectedLength.Value : SegmentSize;
    }

    private readonly int _firstSegmentSize;

    /// <summary>A completed buffer holding <paramref name="body"/> (at most <see cref="MemoryLimit"/> bytes) in one
    /// pooled array: a small body received whole, with no appends.</summary>
    public static SpillBuffer Holding(string tempDirectory, in ReadOnlySequence<byte> body)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(body.Length, MemoryLimit);
        var length = (int)body.Length;
        var buffer = new SpillBuffer(tempDirectory, 0, length);
        if (length > 0)
        {
            var segment = ArrayPool<byte>.Shared.Rent(length);
            body.CopyTo(segment);
            buffer._memory.Enqueue(segment);
            buffer._tail = segment;
            buffer._tailLength = buffer._memoryBytes = length;
        }
        buffer.Length = length;
        buffer._completed = true;
        return buffer;
    }

    /// <summary>Bytes appended so far.</summary>
    public long Length { get; private set; }

    /// <summary>Bytes that went to the temporary file so far (for tests and the debug log).</summary>
    public long SpilledBytes { get; private set; }

    public async ValueTask AppendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        while (data.Length > 0)
        {
            Task? wait = null;
            long fileOffset = -1;
            int take = 0;
            lock (_lock)
            {
                if (_failure is not null || _disposed)
                    throw new IOException("the buffered body's reader failed", _failure ?? new ObjectDisposedException(nameof(SpillBuffer)));
                if (_fileMode && _memoryBytes == 0 && _fileRead == _fileCommitted)
                {
                    // the reader has caught up: back to memory, the file is reused from its start
                    _fileMode = false;
                    _fileRead = _fileCommitted = 0;
                }
                if (!_fileMode && _memoryBytes < MemoryLimit)
                {
                    take = Math.Min(data.Length, MemoryLimit - _memoryBytes);
                    AppendToMemory(data.Span[..take]);
                    Signal(ref _dataWaiter);
                }
                else
                {
                    _fileMode = true;
                    take = (int)Math.Min(data.Length, _fileLimit - _fileCommitted);
                    if (take <= 0) wait = (_spaceWaiter ??= NewWaiter()).Task;
                    else fileOffset = _fileCommitted;
                }
            }
            if (wait is not null)
            {
                await wait.WaitAsync(cancellationToken);
                continue;
            }
            if (fileOffset >= 0)
            {
                await RandomAccess.WriteAsync(File(), data[..take], fileOffset, cancellationToken);
                lock (_lock)
                {
                    _fileCommitted += take;
                    SpilledBytes += take;
                    Signal(ref _dataWaiter);
                }
            }
            Length += take;
            data = data[take..];
        }
    }

    /// <summary>No more bytes will be appended: the reader gets 0 once it has read everything.</summary>
    public void Complete()
    {
        lock (_lock)
        {
            _completed = true;
            Signal(ref _dataWaiter);
        }
    }

    /// <summary>The reader gave up (e.g. the client is gone): the appender's next call throws.</summary>
    public void Fail(Exception reason)
    {
        lock (_lock)
        {
            _failure ??= reason;
            Signal(ref _spaceWaiter);
        }
    }

    /// <summary>Reads the next bytes in order; waits for more until <see cref="Complete"/>, then returns 0.</summary>
    public async ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            Task wait;
            long fileOffset;
            int take;
            lock (_lock)
            {
                _consumed = true;
                if (_memoryBytes > 0)
                {
                    var head = _memory.Peek();
                    var end = ReferenceEquals(head, _tail) ? _tailLength : head.Length;
                    take = Math.Min(destination.Length, end - _headOffset);
                    head.AsSpan(_headOffset, take).CopyTo(destination.Span);
                    _headOffset += take;
                    _memoryBytes -= take;
                    if (_headOffset == end) ReleaseHead();
                    return take;
                }
                if (_fileRead < _fileCommitted)
                {
                    take = (int)Math.Min(destination.Length, _fileCommitted - _fileRead);
                    fileOffset = _fileRead;
                    wait = Task.CompletedTask;
                }
                else if (_completed) return 0;
                else
                {
                    wait = (_dataWaiter ??= NewWaiter()).Task;
                    fileOffset = -1;
                    take = 0;
                }
            }
            if (fileOffset < 0)
            {
                await wait.WaitAsync(cancellationToken);
                continue;
            }
            var read = await RandomAccess.ReadAsync(_file!, destination[..take], fileOffset, cancellationToken);
            lock (_lock)
            {
                // advanced only after the read: the appender resets the file only once this reaches _fileCommitted
                _fileRead += read;
                Signal(ref _spaceWaiter);
            }
            return read;
        }
    }

    /// <summary>The whole buffer as a read-once stream (each read consumes: the appender may reuse the space).</summary>
    public Stream AsReadStream() => new Reader(this);

    /// <summary>A stream over the whole of a completed buffer that leaves the bytes in place, so that each one opened
    /// reads the body again from its start (request_buffering: a retry on the next peer resends the body).
    /// Only for a buffer that <see cref="ReadAsync"/> never read.</summary>
    public Stream OpenCompleted()
    {
        lock (_lock)
        {
            if (!_completed || _consumed || _disposed)
                throw new InvalidOperationException("only a completed, unread buffer can be read again");
            return new CompletedReader(this, [.. _memory], _tailLength, _fileCommitted);
        }
    }

    /// <summary>True when the buffer is completed, never read by <see cref="ReadAsync"/>, and holds the whole body in
    /// memory (nothing went to the temporary file): <see cref="WriteHeldAsync"/> can send it.</summary>
    public bool HeldInMemory
    {
        get
        {
            lock (_lock) return HeldInMemoryLocked;
        }
    }

    private bool HeldInMemoryLocked => _completed && !_consumed && !_disposed && !_fileMode && _fileCommitted == 0;

    /// <summary>Writes a body <see cref="HeldInMemory"/> to <paramref name="destination"/> from its start, leaving it in
    /// place (a retry sends it again): one write per memory segment, so a small body is one write.</summary>
    public ValueTask WriteHeldAsync(Stream destination, CancellationToken cancellationToken)
    {
        byte[][] segments;
        int tailLength;
        lock (_lock)
        {
            if (!HeldInMemoryLocked)
                throw new InvalidOperationException("only a completed, unread body held in memory can be written");
            if (_memory.Count == 0) return ValueTask.CompletedTask;
            if (_memory.Count == 1) return destination.WriteAsync(_memory.Peek().AsMemory(0, _tailLength), cancellationToken);
            segments = [.. _memory];
            tailLength = _tailLength;
        }
        return WriteSegmentsAsync(destination, segments, tailLength, cancellationToken);
    }

    private static async ValueTask WriteSegmentsAsync(Stream destination, byte[][] segments, int tailLength, CancellationToken cancellationToken)
    {
        for (var i = 0; i < segments.Length; i++)
            await destination.WriteAsync(segments[i].AsMemory(0, i == segments.Length - 1 ? tailLength : segments[i].Length), cancellationToken);
    }

    public ValueTask DisposeAsync()
    {
        lock (_lock)
        {
            while (_memory.TryDequeue(out var segment)) ArrayPool<byte>.Shared.Return(segment);
            _tail = null;
            _memoryBytes = 0;
            _file?.Dispose();
            _disposed = true;
            // an appender still waiting wakes up and throws (no exception made here: every request disposes its buffer)
            Signal(ref _spaceWaiter);
        }
        return ValueTask.CompletedTask;
    }

    private void AppendToMemory(ReadOnlySpan<byte> data)
    {
        while (data.Length > 0)
        {
            if (_tail is null || _tailLength == _tail.Length)
            {
                _tail = ArrayPool<byte>.Shared.Rent(Length == 0 && _memoryBytes == 0 ? _firstSegmentSize : SegmentSize);
                _tailLength = 0;
                _memory.Enqueue(_tail);
            }
            var n = Math.Min(_tail.Length - _tailLength, data.Length);
            data[..n].CopyTo(_tail.AsSpan(_tailLength));
            _tailLength += n;
            _memoryBytes += n;
            data = data[n..];
        }
    }

    /// <summary>The first segment is read to its end: back to the pool (the tail too, when memory is now empty).</summary>
    private void ReleaseHead()
    {
        var head = _memory.Dequeue();
        if (ReferenceEquals(head, _tail)) _tail = null;
        ArrayPool<byte>.Shared.Return(head);
        _headOffset = 0;
    }

    private SafeFileHandle File()
    {
        if (_file is not null) return _file;
        Directory.CreateDirectory(_tempDirectory);
        var path = Path.Combine(_tempDirectory, Guid.NewGuid().ToString("N"));
        return _file = System.IO.File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None,
            FileOptions.DeleteOnClose | FileOptions.Asynchronous);
    }

    private static TaskCompletionSource NewWaiter() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static void Signal(ref TaskCompletionSource? waiter)
    {
        waiter?.TrySetResult();
        waiter = null;
    }

    /// <summary>Reads the memory segments in order (the last one up to the tail's length), then the file; its own
    /// position, nothing released.</summary>
    /// <summary>What both readers share: a forward-only, read-only stream of the buffer's body; each gives ReadAsync.</summary>
    private abstract class ReadOnlyBodyStream(SpillBuffer buffer) : Stream
    {
        protected SpillBuffer Buffer { get; } = buffer;

        public abstract override ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken = default);

        public override Task<int> ReadAsync(byte[] array, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(array.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] array, int offset, int count) =>
            ReadAsync(array.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => Buffer.Length;
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] array, int offset, int count) => throw new NotSupportedException();
    }

    private sealed class CompletedReader(SpillBuffer buffer, byte[][] segments, int tailLength, long fileLength) : ReadOnlyBodyStream(buffer)
    {
        private int _segment, _offset;
        private long _filePosition;

        public override async ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken = default)
        {
            if (destination.Length == 0) return 0;
            ObjectDisposedException.ThrowIf(Buffer._disposed, Buffer);
            while (_segment < segments.Length)
            {
                var segment = segments[_segment];
                var end = _segment == segments.Length - 1 ? tailLength : segment.Length;
                var take = Math.Min(destination.Length, end - _offset);
                if (take > 0)
                {
                    segment.AsSpan(_offset, take).CopyTo(destination.Span);
                    _offset += take;
                    return take;
                }
                _segment++;
                _offset = 0;
            }
            if (_filePosition >= fileLength) return 0;
            var length = (int)Math.Min(destination.Length, fileLength - _filePosition);
            var read = await RandomAccess.ReadAsync(Buffer._file!, destination[..length], _filePosition, cancellationToken);
            _filePosition += read;
            return read;
        }
    }

    private sealed class Reader(SpillBuffer buffer) : ReadOnlyBodyStream(buffer)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken = default) =>
            destination.Length == 0 ? ValueTask.FromResult(0) : Buffer.ReadAsync(destination, cancellationToken);
    }
}

/// <summary>How far the proxy holds a body in temporary files.</summary>
internal static class SpillLimits
{
    /// <summary>nginx's proxy_max_temp_file_size (1024m): beyond it the upstream is read at the client's pace.</summary>
    public const long ResponseFile = 1L << 30;
}
