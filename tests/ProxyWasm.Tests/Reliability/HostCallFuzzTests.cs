using System.Text;
using System.Text.RegularExpressions;
using CsCheck;
using Gatehouse.Tests.Reliability;
using ProxyWasm.Abi;
using ProxyWasm.Contexts;
using ProxyWasm.Http;
using ProxyWasm.Runtime;
using Wasmtime;
using Xunit.Abstractions;

namespace ProxyWasm.Tests.Reliability;

/// <summary>
/// Fuzz target: the Proxy-Wasm host-call marshalling, driven through a real Wasm module. The probe module
/// (<c>Modules/probe.wat</c>) exports <c>call_&lt;host function&gt;</c> for every host function it imports, passing
/// its arguments straight on, so each input is a sequence of host calls made by the guest with arguments a hostile
/// guest would choose: pointers into its own scratch data (random bytes, valid pair encodings, strings), at and past
/// the end of its memory, negative and huge; lengths from 0 to 2^31; enum values in and out of range; in the root
/// and in an HTTP context. Properties: every call returns one of the ABI's result codes (no host exception kills the
/// VM), a call that returns an error leaves guest memory untouched, and time and memory per input stay bounded.
/// </summary>
public sealed class HostCallFuzzTests(ITestOutputHelper output) : IDisposable
{
    private const int Scratch = 4096;
    private static readonly (string Export, string[] Params)[] Calls = ReadCalls();

    private readonly TestHost _host = new();
    private FilterPlugin? _plugin;
    private HttpFilterContext? _http;
    private InMemoryHttpStream? _stream;
    private int _scratch;
    private int _inputsOnVm;
    private int _vms;
    private readonly Dictionary<int, long> _results = [];

    public sealed record Arg(int Kind, long Value);

    public sealed record Call(int Index, bool InHttp, Arg[] Args, byte[] Data);

    public sealed record Input(Call[] Calls)
    {
        public override string ToString() => string.Join(" ; ", Calls.Select(c =>
            $"{HostCallFuzzTests.Calls[c.Index].Export}({string.Join(", ", c.Args.Select(a => KindName(a.Kind) + ":" + a.Value))}) in {(c.InHttp ? "http" : "root")} data={Convert.ToHexString(c.Data)}"));

        private static string KindName(int k) => k switch { 0 => "scratch+", 1 => "small", 2 => "end-", 3 => "edge", _ => "any" };
    }

    /// <summary>Every call_* export of the probe module with its parameter types.</summary>
    private static (string, string[])[] ReadCalls()
    {
        var wat = File.ReadAllText(TestHost.ModulePath("probe.wat"));
        return [.. Regex.Matches(wat, @"\(func \(export ""(call_[a-z_]+)""\)((?: \(param [^)]*\))?)")
            .Select(m => (m.Groups[1].Value, m.Groups[2].Value.Replace("(param", "").Replace(")", "").Split(' ', StringSplitOptions.RemoveEmptyEntries)))];
    }

    private static readonly Gen<Input> Inputs = Gen.Int.Select(seed =>
    {
        var r = new Random(seed);
        return new Input([.. Enumerable.Range(0, r.Next(1, 6)).Select(_ =>
        {
            var index = r.Next(Calls.Length);
            var args = Calls[index].Params.Select(_ => r.Next(10) switch
            {
                < 4 => new Arg(0, r.Next(0, Scratch)),
                < 6 => new Arg(1, r.Next(-1, 16)),
                6 => new Arg(2, r.Next(0, 16)),
                7 => new Arg(3, new long[] { int.MaxValue, int.MinValue, -1, 0x7fff_fff0, 65536, 0x1_0000_0000 }[r.Next(6)]),
                _ => new Arg(4, r.NextInt64(int.MinValue, (long)uint.MaxValue + 1)),
            }).ToArray();
            return new Call(index, r.Next(3) > 0, args, Data(r));
        })]);
    });

    /// <summary>What the guest's scratch area holds for a call: a pairs encoding, a string, or random bytes.</summary>
    private static byte[] Data(Random r)
    {
        switch (r.Next(3))
        {
            case 0:
                var pairs = Enumerable.Range(0, r.Next(0, 4)).Select(i => KeyValuePair.Create(r.Next(4) == 0 ? "" : "k" + i, new string('v', r.Next(0, 20)))).ToList();
                var encoded = PairsCodec.ToArray(pairs);
                if (encoded.Length > 0 && r.Next(3) == 0) encoded[r.Next(encoded.Length)] ^= (byte)(1 << r.Next(8));
                return encoded;
            case 1:
                return Encoding.UTF8.GetBytes(new[] { ":path", ":authority", "x-a", "request.path", "plugin_root_id", "", "\u00e9\u0000" }[r.Next(7)]);
            default:
                var raw = new byte[r.Next(0, 64)];
                r.NextBytes(raw);
                return raw;
        }
    }

    [Fact]
    public void Host_calls_hold_their_properties()
    {
        var run = new FuzzRun<Input>("host-call marshalling", Inputs, i => i.ToString(), output) { MemoryBudget = _ => 32L << 20 };
        try { run.Run(Check); }
        finally
        {
            run.Report("  results: " + string.Join(", ", _results.OrderBy(kv => kv.Key).Select(kv => $"{(WasmResult)kv.Key} {kv.Value}")) + $"; fresh VMs {_vms}");
        }
    }

    private void Fresh()
    {
        _http?.Dispose();
        _plugin?.Dispose();
        _plugin = _host.Plugin("probe.wat", config: "fuzz", vmId: "fuzz-" + Guid.NewGuid());
        _stream = new InMemoryHttpStream(path: "/p?q=1");
        _http = _plugin.CreateHttpContext(_stream);
        _scratch = Guest.Of(_http).Alloc(Scratch + 64);
        _inputsOnVm = 0;
        _vms++;
    }

    private void Check(Input input)
    {
        // a VM's bump allocator only grows (each returned value is a guest allocation): start afresh now and then
        if (_plugin is null || _http!.Vm.IsDead || ++_inputsOnVm > 500) Fresh();
        var vm = _http!.Vm;
        foreach (var call in input.Calls)
        {
            var (export, types) = Calls[call.Index];
            var memory = vm.Memory!;
            call.Data.CopyTo(memory.GetSpan(_scratch, Scratch));
            var size = memory.GetLength();
            var args = call.Args.Select((a, i) =>
            {
                long v = a.Kind switch { 0 => _scratch + a.Value, 2 => size - a.Value, _ => a.Value };
                return types[i] == "i64" ? (ValueBox)v : (ValueBox)unchecked((int)v);
            }).ToArray();
            var before = memory.GetSpan(0, (int)size).ToArray();
            var context = call.InHttp ? (ContextBase)_http.Stream : vm.Root;
            var result = vm.InvokeExport(context, export, args);
            if (vm.IsDead) throw new PropertyFailure($"{export} killed the VM", vm.DeathReason);
            if (result is not { } code) throw new PropertyFailure($"{export} trapped");
            _results[code] = _results.GetValueOrDefault(code) + 1;
            if (!Enum.IsDefined((WasmResult)code)) throw new PropertyFailure($"{export} returned an undefined result", code.ToString());
            if (code != (int)WasmResult.Ok && !memory.GetSpan(0, (int)size).SequenceEqual(before))
                throw new PropertyFailure($"{export} returned {(WasmResult)code} but wrote guest memory");
            if (export is "call_proxy_done" or "call_proxy_close_stream" or "call_proxy_send_local_response" && call.InHttp)
            {
                // the stream is finished: the rest of the input runs on a fresh one
                Fresh();
                vm = _http.Vm;
            }
        }
    }

    public void Dispose()
    {
        _http?.Dispose();
        _plugin?.Dispose();
        _host.Dispose();
    }
}
