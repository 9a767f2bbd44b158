using Microsoft.Diagnostics.Tracing.Etlx;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

// allocprof TRACE.nettrace [FRAMES]: the GC's AllocationTick samples (one per ~100 KB allocated) of a
// `dotnet-trace --profile gc-verbose` trace, summed by type, then by type and the first stack frame whose method
// name contains one of FRAMES ('|'-separated, default "Gatehouse|ProxyWasm") — "who in our code allocated it".
if (args.Length is < 1 or > 2)
{
    Console.Error.WriteLine("usage: allocprof TRACE.nettrace [FRAME|FRAME...]");
    return 2;
}
var frames = (args.Length > 1 ? args[1] : "Gatehouse|ProxyWasm").Split('|', StringSplitOptions.RemoveEmptyEntries);
using var log = TraceLog.OpenOrConvert(TraceLog.CreateFromEventPipeDataFile(args[0]));
var byType = new Dictionary<string, long>();
var bySite = new Dictionary<string, long>();
long total = 0;
foreach (var e in log.Events)
{
    if (e is not GCAllocationTickTraceData tick) continue;
    var bytes = tick.AllocationAmount64;
    total += bytes;
    byType[tick.TypeName] = byType.GetValueOrDefault(tick.TypeName) + bytes;
    var site = "(no matching frame)";
    for (var frame = e.CallStack(); frame is not null; frame = frame.Caller)
    {
        var method = frame.CodeAddress.FullMethodName ?? "";
        if (frames.Any(f => method.Contains(f, StringComparison.Ordinal))) { site = Shorten(method, 140); break; }
    }
    var key = $"{tick.TypeName} <- {site}";
    bySite[key] = bySite.GetValueOrDefault(key) + bytes;
}
if (total == 0)
{
    Console.Error.WriteLine("no AllocationTick events (was the trace taken with --profile gc-verbose?)");
    return 1;
}
Console.WriteLine($"## sampled allocations: {total / (1024 * 1024)} MB");
foreach (var (type, bytes) in byType.OrderByDescending(kv => kv.Value).Take(25))
    Console.WriteLine($"{100.0 * bytes / total,5:F1}%  {type}");
Console.WriteLine($"## by type <- first frame matching {string.Join('|', frames)}");
foreach (var (site, bytes) in bySite.OrderByDescending(kv => kv.Value).Take(40))
    Console.WriteLine($"{100.0 * bytes / total,5:F1}%  {site}");
return 0;

static string Shorten(string text, int max) => text.Length <= max ? text : text[..max];
