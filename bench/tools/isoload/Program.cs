// isoload URL CONNECTIONS SECONDS [SIDE_URL SIDE_CLIENTS HEADER:VALUE]
// Closed-loop GET load on URL from CONNECTIONS keep-alive connections for SECONDS; prints one line:
//   rps=… p50_ms=… p90_ms=… p99_ms=… max_ms=… errors=… side_requests=… side_statuses=…
// With SIDE_URL, SIDE_CLIENTS more clients loop on SIDE_URL sending HEADER (e.g. x-chaos:spin) meanwhile; their
// latencies are not part of the percentiles.
using System.Diagnostics;
using System.Globalization;

var url = new Uri(args[0]);
int connections = int.Parse(args[1], CultureInfo.InvariantCulture);
var duration = TimeSpan.FromSeconds(double.Parse(args[2], CultureInfo.InvariantCulture));
Uri? sideUrl = args.Length > 3 ? new Uri(args[3]) : null;
int sideClients = args.Length > 4 ? int.Parse(args[4], CultureInfo.InvariantCulture) : 0;
var sideHeader = args.Length > 5 ? args[5].Split(':', 2) : null;

using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false, MaxConnectionsPerServer = connections + sideClients, PooledConnectionLifetime = Timeout.InfiniteTimeSpan })
{
    Timeout = TimeSpan.FromSeconds(30),
};
var stop = Stopwatch.StartNew();
var latencies = new List<double>[connections];
int errors = 0, side = 0;
var sideStatuses = new System.Collections.Concurrent.ConcurrentDictionary<int, int>();

async Task MainLoop(int i)
{
    var mine = latencies[i] = new List<double>(100_000);
    while (stop.Elapsed < duration)
    {
        long t0 = Stopwatch.GetTimestamp();
        try
        {
            using var response = await client.GetAsync(url, HttpCompletionOption.ResponseContentRead);
            if (!response.IsSuccessStatusCode) Interlocked.Increment(ref errors);
        }
        catch (HttpRequestException) { Interlocked.Increment(ref errors); }
        mine.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
    }
}

async Task SideLoop()
{
    while (stop.Elapsed < duration)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, sideUrl);
        if (sideHeader is not null) request.Headers.TryAddWithoutValidation(sideHeader[0], sideHeader[1]);
        try
        {
            using var response = await client.SendAsync(request);
            sideStatuses.AddOrUpdate((int)response.StatusCode, 1, (_, n) => n + 1);
        }
        catch (HttpRequestException) { sideStatuses.AddOrUpdate(-1, 1, (_, n) => n + 1); }
        Interlocked.Increment(ref side);
    }
}

var tasks = Enumerable.Range(0, connections).Select(i => Task.Run(() => MainLoop(i)))
    .Concat(Enumerable.Range(0, sideUrl is null ? 0 : sideClients).Select(_ => Task.Run(SideLoop))).ToArray();
await Task.WhenAll(tasks);
var all = latencies.SelectMany(l => l).Order().ToArray();
double P(double q) => all.Length == 0 ? double.NaN : all[Math.Min(all.Length - 1, (int)(q * all.Length))];
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"rps={all.Length / duration.TotalSeconds:0} p50_ms={P(0.50):0.00} p90_ms={P(0.90):0.00} p99_ms={P(0.99):0.00} max_ms={all[^1]:0.0} errors={errors} side_requests={side} side_statuses={string.Join(',', sideStatuses.OrderBy(k => k.Key).Select(k => $"{k.Key}x{k.Value}"))}"));
