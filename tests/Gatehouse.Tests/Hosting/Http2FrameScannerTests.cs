using System.Buffers.Binary;
using Gatehouse.Hosting;
using Gatehouse.Proxy;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;

namespace Gatehouse.Tests.Hosting;

/// <summary>
/// The HTTP/2 frame scanner on its own (its collaborator, the per-stream table, is the real one): the same bytes give
/// the same counts however the transport splits them, down to one byte per read, and only a stream's own HEADERS,
/// CONTINUATION and DATA frames count. TotalSizePropertyTests covers the scanner on real connections.
/// </summary>
public sealed class Http2FrameScannerTests
{
    private static byte[] Frame(byte type, byte flags, int streamId, byte[] payload)
    {
        var frame = new byte[9 + payload.Length];
        frame[0] = (byte)(payload.Length >> 16);
        frame[1] = (byte)(payload.Length >> 8);
        frame[2] = (byte)payload.Length;
        frame[3] = type;
        frame[4] = flags;
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(5), streamId);
        payload.CopyTo(frame, 9);
        return frame;
    }

    private static HttpContext Stream(int id)
    {
        var http = new DefaultHttpContext();
        http.Features.Set<IHttp2StreamIdFeature>(new StreamIdFeature(id));
        return http;
    }

    private sealed record StreamIdFeature(int StreamId) : IHttp2StreamIdFeature;

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(int.MaxValue)]
    public void Inbound_header_blocks_count_their_fragments_however_the_bytes_are_split(int chunk)
    {
        byte[] input =
        [
            .. "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8,
            .. Frame(0x4, 0, 0, new byte[12]),                                        // SETTINGS: connection-level
            .. Frame(0x1, 0x8 | 0x20, 1, [3, 0, 0, 0, 0, 16, .. new byte[40], 9, 9, 9]), // padded, priority: 40
            .. Frame(0x9, 0x4, 1, new byte[25]),                                      // CONTINUATION: 25
            .. Frame(0x0, 0x1, 1, new byte[100]),                                     // DATA: the body, counted as read
            .. Frame(0x1, 0x4 | 0x1, 3, new byte[17]),                                // a second stream: 17
            .. Frame(0x8, 0, 0, [0, 0, 1, 0]),                                        // WINDOW_UPDATE
        ];
        var sizes = new Http2StreamSizes();
        var scanner = new Http2FrameScanner(sizes, inbound: true);
        for (var at = 0; at < input.Length; at += Math.Min(chunk, input.Length - at))
            scanner.Scan(input.AsSpan(at, Math.Min(chunk, input.Length - at)));
        Assert.Equal(65, sizes.Of(Stream(1))!.Received);
        Assert.Equal(17, sizes.Of(Stream(3))!.Received);
        Assert.Null(sizes.Of(Stream(5)));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(int.MaxValue)]
    public void Outbound_frames_of_a_stream_count_with_their_headers_and_the_last_one_completes_the_wait(int chunk)
    {
        var sizes = new Http2StreamSizes();
        new Http2FrameScanner(sizes, inbound: true).Scan([.. "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8, .. Frame(0x1, 0x5, 1, new byte[10])]);
        var stream = sizes.Of(Stream(1))!;
        stream.Started();
        var written = stream.WrittenAsync();
        byte[] output =
        [
            .. Frame(0x4, 0, 0, new byte[6]),     // SETTINGS
            .. Frame(0x1, 0x0, 1, new byte[30]),  // HEADERS without END_HEADERS
            .. Frame(0x9, 0x4, 1, new byte[5]),   // CONTINUATION
            .. Frame(0x0, 0x0, 1, new byte[50]),  // DATA
            .. Frame(0x8, 0, 1, [0, 0, 1, 0]),    // WINDOW_UPDATE on the stream: not a response frame
            .. Frame(0x0, 0x1, 1, []),            // DATA, END_STREAM
        ];
        var scanner = new Http2FrameScanner(sizes, inbound: false);
        for (var at = 0; at < output.Length; at += Math.Min(chunk, output.Length - at))
        {
            Assert.False(written.IsCompleted);
            scanner.Scan(output.AsSpan(at, Math.Min(chunk, output.Length - at)));
        }
        Assert.Equal(9 + 30 + 9 + 5 + 9 + 50 + 9, stream.Sent);
        Assert.True(written.IsCompletedSuccessfully);
        Assert.NotNull(sizes.Of(Stream(1))); // kept for the log phase until the request ends
    }

    [Fact]
    public void A_stream_reset_before_its_request_started_is_forgotten()
    {
        var sizes = new Http2StreamSizes();
        new Http2FrameScanner(sizes, inbound: true).Scan([.. "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8, .. Frame(0x1, 0x5, 1, new byte[10])]);
        new Http2FrameScanner(sizes, inbound: false).Scan(Frame(0x3, 0, 1, [0, 0, 0, 1]));
        Assert.Null(sizes.Of(Stream(1)));
    }
}
