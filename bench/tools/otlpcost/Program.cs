// What the OpenTelemetry SDK's OTLP/HTTP protobuf exporter (the one the opentelemetry plugin must use) costs per span,
// apart from Gatehouse: CPU time of the exporting thread for one Export of a batch of spans shaped like O1's (Kong's
// names and attribute counts), and of making those spans (Activity, tags) on the request thread. The collector is a
// minimal local HTTP/1.1 server answering 200 at once (its CPU is not counted). Thread CPU time, best of the rounds,
// so a busy machine inflates the figures less than wall time would.
//
//   dotnet run -c Release --project bench/tools/otlpcost [-- BATCH ROUNDS]
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using OpenTelemetry;
using OpenTelemetry.Exporter;

var batchSize = args.Length > 0 ? int.Parse(args[0]) : 200;
var rounds = args.Length > 1 ? int.Parse(args[1]) : 50;

var listener = new TcpListener(IPAddress.Loopback, 0);
listener.Start();
_ = Task.Run(async () =>
{
    while (true)
    {
        var client = await listener.AcceptTcpClientAsync();
        _ = Task.Run(() => Collector.Serve(client));
    }
});
var endpoint = new Uri($"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}/v1/traces");

using var source = new ActivitySource("Gatehouse.OpenTelemetry", "3.9.1");
using var activityListener = new ActivityListener
{
    ShouldListenTo = s => ReferenceEquals(s, source),
    Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
};
ActivitySource.AddActivityListener(activityListener);

// one O1 request as bench/run.sh's report lists it (6 spans): the request span (12 attributes), router, the plugin's
// access step, the two callbacks the bench-headers filter exports (8 attributes each), the balancer try (3)
Activity[] Request()
{
    var spans = new List<Activity>(10);
    var root = Make("kong", default, 12);
    spans.Add(root);
    var parent = new ActivityContext(root.TraceId, root.SpanId, ActivityTraceFlags.Recorded);
    spans.Add(Make("kong.router", parent, 0));
    spans.Add(Make("kong.access.plugin.opentelemetry", parent, 0));
    foreach (var callback in new[] { "on_request_headers", "on_response_headers" })
        spans.Add(Make("gatehouse.wasm.bench-headers", parent, 8));
    spans.Add(Make("kong.balancer", parent, 3));
    return [.. spans];
}

Activity Make(string name, ActivityContext parent, int attributes)
{
    var activity = source.CreateActivity(name, ActivityKind.Internal, parent, idFormat: ActivityIdFormat.W3C)!;
    activity.Start();
    for (var i = 0; i < attributes; i++) activity.AddTag("attribute.number." + i, i % 2 == 0 ? "a value of some length" : (object)(long)i);
    activity.SetEndTime(DateTime.UtcNow);
    return activity;
}

using var exporter = new OtlpTraceExporter(new OtlpExporterOptions { Endpoint = endpoint, Protocol = OtlpExportProtocol.HttpProtobuf });
double bestExport = double.MaxValue, bestMake = double.MaxValue;
var spansPerRequest = Request().Length;
var thread = new Thread(() =>
{
    for (var round = 0; round < rounds; round++)
    {
        var made = new List<Activity>(batchSize + spansPerRequest);
        var t0 = ThreadCpu.Microseconds();
        while (made.Count < batchSize) made.AddRange(Request());
        var t1 = ThreadCpu.Microseconds();
        var batch = made.Take(batchSize).ToArray();
        var result = exporter.Export(new Batch<Activity>(batch, batch.Length));
        var t2 = ThreadCpu.Microseconds();
        if (result != ExportResult.Success) throw new InvalidOperationException("export failed");
        if (round > 2) // after the JIT's first tiers
        {
            bestMake = Math.Min(bestMake, (t1 - t0) / made.Count);
            bestExport = Math.Min(bestExport, (t2 - t1) / batch.Length);
        }
        Thread.Sleep(20);
    }
});
thread.Start();
thread.Join();
Console.WriteLine($"OTLP/HTTP protobuf exporter (OpenTelemetry SDK), batches of {batchSize}, best of {rounds - 3} rounds:");
Console.WriteLine($"  export: {bestExport:F2} µs CPU per span on the exporting thread");
Console.WriteLine($"  making the spans (Activity + tags): {bestMake:F2} µs CPU per span");
Console.WriteLine($"  an O1 request ({spansPerRequest} spans): {(bestExport + bestMake) * spansPerRequest:F1} µs CPU");

static class ThreadCpu
{
    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec { public long Seconds; public long Nanoseconds; }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out Timespec value);

    public static double Microseconds()
    {
        ClockGetTime(3, out var t); // CLOCK_THREAD_CPUTIME_ID
        return t.Seconds * 1e6 + t.Nanoseconds / 1e3;
    }
}

static class Collector
{
    /// <summary>Reads each request (headers, then Content-Length bytes) and answers 200 with an empty body.</summary>
    public static async Task Serve(TcpClient client)
    {
        using var _ = client;
        var stream = client.GetStream();
        var buffer = new byte[1 << 20];
        var filled = 0;
        while (true)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(filled));
            if (read == 0) return;
            filled += read;
            while (true)
            {
                var text = System.Text.Encoding.ASCII.GetString(buffer, 0, Math.Min(filled, 8192));
                var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
                if (end < 0) break;
                var length = 0;
                foreach (var line in text[..end].Split("\r\n"))
                    if (line.StartsWith("content-length:", StringComparison.OrdinalIgnoreCase)) length = int.Parse(line[15..].Trim());
                var total = end + 4 + length;
                if (filled < total) break;
                Buffer.BlockCopy(buffer, total, buffer, 0, filled - total);
                filled -= total;
                await stream.WriteAsync("HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\nContent-Length: 0\r\n\r\n"u8.ToArray());
            }
        }
    }
}
