using System.Text;
using CsCheck;
using Gatehouse.Wasm;
using Microsoft.AspNetCore.Http;
using ProxyWasm.Abi;
using ProxyWasm.Http;
using Xunit.Abstractions;

namespace Gatehouse.Tests.Reliability;

/// <summary>
/// Fuzz target: the header-map codec, on both sides of the Proxy-Wasm boundary. (1) The pairs serialisation a guest
/// hands to <c>proxy_set_header_map_pairs</c>: arbitrary bytes and mutated valid encodings never throw, a refusal adds
/// nothing, and what is accepted re-serialises to the same bytes when its strings are valid UTF-8; maps with arbitrary
/// names and values (NUL, non-ASCII, lone surrogates) round-trip. (2) <see cref="AspNetHeaderMap"/> over a real
/// ASP.NET request or response: random edits through the map (pseudo-headers included), interleaved with edits made
/// directly on the ASP.NET headers as plugins do, must leave the map agreeing with a reference model, its Count equal
/// to what it enumerates, and its serialisation the exact size announced and parseable back to the same pairs.
/// </summary>
public sealed class HeaderMapFuzzTests(ITestOutputHelper output)
{
    private const int MaxBytes = 1 << 20, MaxCount = 1024;

    public sealed record CodecInput(byte[] Bytes)
    {
        public override string ToString() => Convert.ToHexString(Bytes);
    }

    private static readonly string[] Names = ["x-a", "X-A", "x-b", "content-type", "host", ":path", ":method", ":authority", ":scheme", ":status", "", "x\u00e9", "x-\u0000", "set-cookie", "X-Multi"];

    private static string Value(Random r) => r.Next(6) switch
    {
        0 => "",
        1 => KongShapes.Random(r),
        2 => "\ud800" + KongShapes.Word(r),
        3 => new string('v', r.Next(0, 2000)),
        4 => "/p" + KongShapes.Path(r) + (r.Next(2) == 0 ? "?q=" + KongShapes.Word(r) : ""),
        _ => KongShapes.Word(r),
    };

    private static readonly Gen<CodecInput> CodecInputs = Gen.Int.Select(seed =>
    {
        var r = new Random(seed);
        if (r.Next(5) == 0)
        {
            var raw = new byte[r.Next(0, 64)];
            r.NextBytes(raw);
            return new CodecInput(raw);
        }
        var pairs = Enumerable.Range(0, r.Next(0, 8)).Select(_ => KeyValuePair.Create(Names[r.Next(Names.Length)], Value(r))).ToList();
        var bytes = PairsCodec.ToArray(pairs);
        if (r.Next(2) == 0) bytes = MutateBinary(r, bytes);
        return new CodecInput(bytes);
    });

    private static byte[] MutateBinary(Random r, byte[] input)
    {
        var bytes = new List<byte>(input);
        for (var n = r.Next(1, 3); n > 0; n--)
        {
            var at = bytes.Count == 0 ? 0 : r.Next(bytes.Count);
            switch (r.Next(6))
            {
                case 0: if (bytes.Count >= 4) { var v = r.Next(3) switch { 0 => uint.MaxValue, 1 => (uint)r.Next(0, 2000), _ => 0x8000_0000u }; var off = r.Next(bytes.Count / 4) * 4; BitConverter.GetBytes(v).CopyTo(bytes.ToArray(), 0); bytes.RemoveRange(off, 4); bytes.InsertRange(off, BitConverter.GetBytes(v)); } break;
                case 1: if (bytes.Count > 0) bytes.RemoveAt(at); break;
                case 2: bytes.Insert(at, (byte)r.Next(256)); break;
                case 3: if (bytes.Count > 0) bytes[at] ^= (byte)(1 << r.Next(8)); break;
                case 4: if (bytes.Count > 0) bytes.RemoveRange(at, bytes.Count - at); break;
                default: bytes.Add(0); break;
            }
        }
        return [.. bytes];
    }

    [Fact]
    public void Pairs_codec_holds_its_properties()
    {
        new FuzzRun<CodecInput>("header-map-codec (pairs)", CodecInputs, i => i.ToString(), output)
        {
            MemoryBudget = i => (4L << 20) + 64L * i.Bytes.Length,
        }.Run(CheckCodec, shortFormSeconds: 2);
    }

    private static readonly UTF8Encoding StrictUtf8 = new(false, true);

    private static void CheckCodec(CodecInput input)
    {
        var into = new List<KeyValuePair<string, string>> { KeyValuePair.Create("before", "x") };
        var ok = PairsCodec.TryParse(input.Bytes, MaxBytes, MaxCount, into);
        if (!ok)
        {
            if (into.Count != 1) throw new PropertyFailure("a refused encoding added pairs");
            return;
        }
        var parsed = into.Skip(1).ToList();
        var again = PairsCodec.ToArray(parsed);
        if (parsed.Count == 0) return; // the empty encodings (nothing, one NUL, a zero count) all mean an empty map
        if (ValidUtf8Strings(input.Bytes) && !again.AsSpan().SequenceEqual(input.Bytes))
            throw new PropertyFailure("an accepted encoding does not re-serialise to itself");
        var twice = new List<KeyValuePair<string, string>>();
        if (!PairsCodec.TryParse(again, MaxBytes, MaxCount, twice) || !twice.SequenceEqual(parsed))
            throw new PropertyFailure("a serialised map does not parse back to itself");
    }

    private static bool ValidUtf8Strings(byte[] bytes)
    {
        try { StrictUtf8.GetString(bytes); return true; }
        catch (DecoderFallbackException) { return false; }
    }

    public sealed record Op(int Kind, string Name, string Value, bool Direct);

    public sealed record MapInput(bool Response, Op[] Ops)
    {
        public override string ToString() => (Response ? "response: " : "request: ") + string.Join(" | ", Ops.Select(o =>
            $"{(o.Direct ? "direct " : "")}{(o.Kind switch { 0 => "add", 1 => "replace", 2 => "remove", 3 => "clear", _ => "get" })} {o.Name}={Escape(o.Value)}"));

        private static string Escape(string s) => s.Length > 40 ? s[..40] + "…" : string.Concat(s.Select(c => c < 0x20 || c > 0x7e ? $"\\u{(int)c:x4}" : c.ToString()));
    }

    private static readonly Gen<MapInput> MapInputs = Gen.Int.Select(seed =>
    {
        var r = new Random(seed);
        var ops = Enumerable.Range(0, r.Next(1, 20)).Select(_ =>
        {
            var kind = r.Next(12) switch { < 4 => 0, < 7 => 1, < 9 => 2, 9 => 3, _ => 4 };
            var name = Names[r.Next(Names.Length)];
            var direct = r.Next(5) == 0 && !name.StartsWith(':') && name.Length > 0;
            return new Op(kind, name, Value(r), direct);
        }).ToArray();
        return new MapInput(r.Next(2) == 0, ops);
    });

    [Fact]
    public void AspNet_header_map_holds_its_properties()
    {
        new FuzzRun<MapInput>("header-map-codec (aspnet)", MapInputs, i => i.ToString(), output)
        {
            MemoryBudget = _ => 16L << 20,
        }.Run(CheckMap, shortFormSeconds: 2);
    }

    private static void CheckMap(MapInput input)
    {
        var http = new DefaultHttpContext();
        http.Request.Method = "GET";
        http.Request.Path = "/start";
        http.Request.Host = new HostString("example.test");
        http.Request.Scheme = "http";
        // as the proxy builds them: a request map over the request's ProxyContext (where a :path write goes)
        var map = new AspNetHeaderMap(http, input.Response, input.Response ? null : new Gatehouse.Proxy.Pipeline.ProxyContext(http, TimeProvider.System));
        var headers = input.Response ? http.Response.Headers : http.Request.Headers;
        // Count is exact after the map's own edits and after edits behind its back that change the number of names;
        // one that keeps the number of names may go unseen until the map's next edit (documented on the map)
        var unseen = false;
        foreach (var op in input.Ops)
        {
            _ = map.Count; // the count cache is filled between edits, as the headers callbacks do
            if (op.Direct)
            {
                // plugins edit the ASP.NET headers directly between filter callbacks
                var names = headers.Count;
                switch (op.Kind)
                {
                    case 0: headers.Append(op.Name, op.Value); break;
                    case 1: headers[op.Name] = op.Value; break;
                    case 2: headers.Remove(op.Name); break;
                    default: break;
                }
                unseen |= headers.Count == names;
                continue;
            }
            // Outside this target's contract: an empty name is refused by the ABI layer (EnvHeaders answers
            // BadArgument) before it reaches a map.
            if (op.Name.Length == 0) continue;
            if (op.Kind != 4) unseen = false; // an edit (not a read) makes the map count afresh
            try
            {
                switch (op.Kind)
                {
                    case 0: map.Add(op.Name, op.Value); break;
                    case 1: map.Replace(op.Name, op.Value); break;
                    case 2: map.Remove(op.Name); break;
                    case 3: map.Clear(); break;
                    default: map.TryGetValue(op.Name, out _); break;
                }
            }
            catch (Exception e) when (e is not PropertyFailure)
            {
                throw new PropertyFailure($"map edit threw {e.GetType().Name}", $"{op} → {e.Message}");
            }
            var enumerated = map.ToList();
            if (!unseen && map.Count != enumerated.Count) throw new PropertyFailure("Count disagrees with the enumeration", $"{map.Count} vs {enumerated.Count}");
        }
        var pairs = map.ToList();
        if (!unseen && map.Count != pairs.Count) throw new PropertyFailure("Count disagrees with the enumeration at the end", $"{map.Count} vs {pairs.Count}");
        var size = PairsCodec.SizeOf(map);
        var buffer = new byte[size];
        if (size > 0) PairsCodec.Write(map, buffer);
        var back = new List<KeyValuePair<string, string>>();
        if (!PairsCodec.TryParse(buffer, int.MaxValue, int.MaxValue, back)) throw new PropertyFailure("serialised map does not parse");
        var expected = pairs.Select(p => KeyValuePair.Create(RoundTrip(p.Key), RoundTrip(p.Value))).ToList();
        if (!back.SequenceEqual(expected)) throw new PropertyFailure("serialised map parses to other pairs");
    }

    // header values are byte strings (ProxyWasm.Http.HeaderBytes): one char per byte, a char above U+00FF (only host
    // code can make one) leaves as '?'
    private static string RoundTrip(string s) => Encoding.Latin1.GetString(Encoding.Latin1.GetBytes(s));
}
