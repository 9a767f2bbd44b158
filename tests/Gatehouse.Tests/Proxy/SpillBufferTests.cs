using Gatehouse.Proxy;

namespace Gatehouse.Tests.Proxy;

/// <summary>The body buffer of request/response buffering: bytes come out in order across memory, the temporary
/// file and back, with one appender and one reader running at once, and the appender waits when the file is full.</summary>
public sealed class SpillBufferTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "gatehouse-spill-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private static byte[] Pattern(int length, int seed)
    {
        var random = new Random(seed);
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    [Theory]
    [InlineData(1_000, 1_000)]
    [InlineData(1_000, 90_000)] // a handler made the body longer than its Content-Length: more segments, then the file
    [InlineData(100, 17)]
    public async Task A_small_expected_length_sizes_the_first_segment_and_any_body_still_reads_back_whole(long expected, int actual)
    {
        var body = Pattern(actual, actual);
        await using var buffer = new SpillBuffer(_dir, long.MaxValue, expected);
        for (var at = 0; at < body.Length; at += 700) await buffer.AppendAsync(body.AsMemory(at, Math.Min(700, body.Length - at)));
        buffer.Complete();
        await using var reader = buffer.OpenCompleted();
        var copy = new MemoryStream();
        await reader.CopyToAsync(copy);
        Assert.Equal(body, copy.ToArray());
    }

    [Theory]
    [InlineData(1, long.MaxValue)]
    [InlineData(2, 100_000)] // the file holds less than the body: the appender waits for the reader
    [InlineData(3, 7_000)]
    public async Task Concurrent_append_and_read_keep_every_byte_in_order(int seed, long fileLimit)
    {
        var body = Pattern(3 << 20, seed);
        await using var buffer = new SpillBuffer(_dir, fileLimit);
        var random = new Random(seed);
        var appender = Task.Run(async () =>
        {
            for (var at = 0; at < body.Length;)
            {
                var n = Math.Min(random.Next(1, 40_000), body.Length - at);
                await buffer.AppendAsync(body.AsMemory(at, n));
                at += n;
            }
            buffer.Complete();
        });
        var received = new MemoryStream();
        var chunk = new byte[9_000];
        int read;
        while ((read = await buffer.ReadAsync(chunk)) > 0) received.Write(chunk, 0, read);
        await appender;
        Assert.True(body.AsSpan().SequenceEqual(received.ToArray()));
        Assert.Equal(body.Length, buffer.Length);
        Assert.True(buffer.SpilledBytes > 0); // the 64 KiB of memory were passed
    }

    [Fact]
    public async Task A_body_within_the_memory_bound_never_creates_a_file()
    {
        var body = Pattern(SpillBuffer.MemoryLimit, 4);
        await using var buffer = new SpillBuffer(_dir, long.MaxValue);
        await buffer.AppendAsync(body);
        buffer.Complete();
        using var copy = new MemoryStream();
        await buffer.AsReadStream().CopyToAsync(copy);
        Assert.True(body.AsSpan().SequenceEqual(copy.ToArray()));
        Assert.Equal(0, buffer.SpilledBytes);
        Assert.False(Directory.Exists(_dir));
    }

    /// <summary>request_buffering's body is sent again on a retry: each stream over the completed buffer reads it
    /// whole, from memory and the file, and leaves it in place.</summary>
    [Theory]
    [InlineData(0)]
    [InlineData(1_000)]
    [InlineData(SpillBuffer.MemoryLimit)]
    [InlineData(300_001)]
    public async Task A_completed_buffer_can_be_read_whole_again_and_again(int length)
    {
        var body = Pattern(length, 5);
        await using var buffer = new SpillBuffer(_dir, long.MaxValue);
        for (var at = 0; at < body.Length; at += 7_000) await buffer.AppendAsync(body.AsMemory(at, Math.Min(7_000, body.Length - at)));
        buffer.Complete();
        for (var pass = 0; pass < 3; pass++)
        {
            using var copy = new MemoryStream();
            await buffer.OpenCompleted().CopyToAsync(copy, 5_000);
            Assert.True(body.AsSpan().SequenceEqual(copy.ToArray()), $"pass {pass}");
        }
        Assert.Equal(length > SpillBuffer.MemoryLimit, buffer.SpilledBytes > 0);
    }

    [Fact]
    public async Task Only_a_completed_unread_buffer_can_be_read_again()
    {
        await using var buffer = new SpillBuffer(_dir, long.MaxValue);
        await buffer.AppendAsync(new byte[10]);
        Assert.Throws<InvalidOperationException>(() => buffer.OpenCompleted());
        buffer.Complete();
        Assert.Equal(10, await buffer.ReadAsync(new byte[20]));
        Assert.Throws<InvalidOperationException>(() => buffer.OpenCompleted());
    }

    [Fact]
    public async Task A_failed_reader_makes_the_waiting_appender_throw()
    {
        await using var buffer = new SpillBuffer(_dir, 1_000);
        await buffer.AppendAsync(new byte[SpillBuffer.MemoryLimit + 1_000]); // memory and file full
        var waiting = buffer.AppendAsync(new byte[10]).AsTask();
        Assert.False(waiting.IsCompleted); // nothing was read: no room
        buffer.Fail(new IOException("client gone"));
        await Assert.ThrowsAsync<IOException>(() => waiting);
    }

    /// <summary>A body held in memory is written as it is, one write per segment (a small body: one write), as often
    /// as asked (a retry sends it again); a body that went to the file is not "held in memory".</summary>
    [Theory]
    [InlineData(0, 0)]
    [InlineData(1_024, 1)]
    [InlineData(40_000, 3)]
    public async Task A_body_held_in_memory_is_written_whole_in_one_write_per_segment(int length, int writes)
    {
        var body = Pattern(length, 9);
        await using var buffer = new SpillBuffer(_dir, long.MaxValue, length);
        for (var at = 0; at < body.Length; at += 700) await buffer.AppendAsync(body.AsMemory(at, Math.Min(700, body.Length - at)));
        Assert.False(buffer.HeldInMemory); // not completed yet
        buffer.Complete();
        Assert.True(buffer.HeldInMemory);
        for (var pass = 0; pass < 2; pass++)
        {
            var sink = new WriteRecorder();
            await buffer.WriteHeldAsync(sink, CancellationToken.None);
            Assert.Equal(writes, sink.Writes);
            Assert.True(body.AsSpan().SequenceEqual(sink.ToArray()), $"pass {pass}");
        }
        await using var reader = buffer.OpenCompleted(); // writing left it unread
    }

    /// <summary>A small body received whole (<c>SpillBuffer.Holding</c>, from the server's buffer, possibly in several
    /// segments): completed and held in memory at once, written in one write as often as asked, readable again from its
    /// start; more than the memory bound is refused.</summary>
    [Theory]
    [InlineData(1_024, 1)]
    [InlineData(1_024, 3)]
    [InlineData(SpillBuffer.MemoryLimit, 2)]
    public async Task A_body_received_whole_is_held_in_one_array(int length, int parts)
    {
        var body = Pattern(length, 11);
        var sequence = Sequence(body, parts);
        await using var buffer = SpillBuffer.Holding(_dir, sequence);
        Assert.Equal(length, buffer.Length);
        Assert.True(buffer.HeldInMemory);
        for (var pass = 0; pass < 2; pass++)
        {
            var sink = new WriteRecorder();
            await buffer.WriteHeldAsync(sink, CancellationToken.None);
            Assert.Equal(1, sink.Writes);
            Assert.Equal(body, sink.ToArray());
        }
        for (var pass = 0; pass < 2; pass++)
        {
            await using var reader = buffer.OpenCompleted();
            var copy = new MemoryStream();
            await reader.CopyToAsync(copy);
            Assert.Equal(body, copy.ToArray());
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => SpillBuffer.Holding(_dir, new System.Buffers.ReadOnlySequence<byte>(new byte[SpillBuffer.MemoryLimit + 1])));
    }

    private static System.Buffers.ReadOnlySequence<byte> Sequence(byte[] bytes, int parts)
    {
        if (parts == 1) return new System.Buffers.ReadOnlySequence<byte>(bytes);
        var size = (bytes.Length + parts - 1) / parts;
        Part? first = null, last = null;
        for (var at = 0; at < bytes.Length; at += size)
        {
            var part = new Part(bytes.AsMemory(at, Math.Min(size, bytes.Length - at)));
            if (last is null) first = part;
            else last.Append(part);
            last = part;
        }
        return new System.Buffers.ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    private sealed class Part : System.Buffers.ReadOnlySequenceSegment<byte>
    {
        public Part(ReadOnlyMemory<byte> memory) => Memory = memory;

        public void Append(Part next)
        {
            next.RunningIndex = RunningIndex + Memory.Length;
            Next = next;
        }
    }

    [Fact]
    public async Task A_spilled_or_read_body_is_not_held_in_memory()
    {
        await using var spilled = new SpillBuffer(_dir, long.MaxValue);
        await spilled.AppendAsync(new byte[SpillBuffer.MemoryLimit + 1]);
        spilled.Complete();
        Assert.False(spilled.HeldInMemory);
        await Assert.ThrowsAsync<InvalidOperationException>(() => spilled.WriteHeldAsync(new MemoryStream(), CancellationToken.None).AsTask());
        await using var read = new SpillBuffer(_dir, long.MaxValue);
        await read.AppendAsync(new byte[10]);
        read.Complete();
        Assert.Equal(10, await read.ReadAsync(new byte[20]));
        Assert.False(read.HeldInMemory);
    }

    /// <summary>The upstream content of a held body: the held bytes with their length, the replaced content's headers
    /// but its Content-Length, and no flush of its own (the connection sends head and body together).</summary>
    [Fact]
    public async Task Held_body_content_writes_the_body_once_with_its_length_and_the_replaced_headers()
    {
        var body = Pattern(1_024, 3);
        await using var buffer = new SpillBuffer(_dir, long.MaxValue, body.Length);
        await buffer.AppendAsync(body);
        buffer.Complete();
        using var replaced = new ByteArrayContent([]);
        replaced.Headers.TryAddWithoutValidation("Content-Type", "text/plain");
        replaced.Headers.TryAddWithoutValidation("Content-Language", ["de", "en"]);
        replaced.Headers.ContentLength = 99;
        using var content = new HeldBodyContent(buffer, replaced);
        Assert.Equal(1_024, content.Headers.ContentLength);
        Assert.Equal("text/plain", content.Headers.ContentType!.ToString());
        Assert.Equal(["de", "en"], content.Headers.ContentLanguage);
        for (var pass = 0; pass < 2; pass++)
        {
            var sink = new WriteRecorder();
            await content.CopyToAsync(sink);
            Assert.Equal((1, 0), (sink.Writes, sink.Flushes));
            Assert.Equal(body, sink.ToArray());
        }
    }

    private sealed class WriteRecorder : MemoryStream
    {
        public int Writes { get; private set; }
        public int Flushes { get; private set; }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Writes++;
            return base.WriteAsync(buffer, cancellationToken);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            Writes++;
            return base.WriteAsync(buffer, offset, count, cancellationToken);
        }

        public override Task FlushAsync(CancellationToken cancellationToken)
        {
            Flushes++;
            return base.FlushAsync(cancellationToken);
        }
    }
}
