using System.Text;
using System.Text.Json.Nodes;
using CsCheck;
using Gatehouse.Hosting;
using Gatehouse.Entities;
using Gatehouse.Store.Declarative;
using Xunit.Abstractions;
using YamlDotNet.RepresentationModel;

namespace Gatehouse.Tests.Reliability;

/// <summary>
/// Fuzz target: the declarative parser and loader (what <c>POST /config</c>, <c>declarative_config</c> and
/// <c>gatehouse config parse</c> run). Inputs are kong.yml trees written as YAML (random styles, anchors and
/// aliases) or JSON, then mutated at byte level. Properties: loading never throws, a refusal is Kong's declarative
/// error shape, loading is deterministic, an unmutated document parses back to the tree it was written from, and
/// memory and time stay bounded by the input's size.
/// </summary>
public sealed class DeclarativeParserFuzzTests(ITestOutputHelper output)
{
    private static readonly DeclarativeLoader Loader = new(GatehouseEntities.Default, new FixedTime());

    private sealed record Input(JsonObject Tree, bool Json, byte[] Bytes, bool Mutated)
    {
        public override string ToString() => (Json ? "json" : "yaml") + (Mutated ? " (mutated)" : "") + ": " + Encoding.UTF8.GetString(Bytes);
    }

    private static readonly Gen<Input> Inputs = Gen.Int.Select(Gen.Int[0, 3], (seed, mode) =>
    {
        var r = new Random(seed);
        var tree = KongShapes.Config(r);
        var json = r.Next(3) == 0;
        var text = json ? tree.ToJsonString() : KongShapes.Yaml(r, tree);
        var bytes = Encoding.UTF8.GetBytes(text);
        return mode == 0 ? new Input(tree, json, bytes, false) : new Input(tree, json, KongShapes.Mutate(r, bytes), true);
    });

    /// <summary>
    /// What the parser may build from aliases by design, whatever the file's size (kong-compatibility.md: copies of
    /// up to <see cref="DeclarativeParser.MinAliasNodeBudget"/> nodes and <see cref="DeclarativeParser.MinAliasCharBudget"/>
    /// characters), at a generous 256 bytes per node and 4 bytes per character (the tree and the loader's working
    /// copy), for the two loads <see cref="Check"/> makes. A 500-byte fan-out within those bounds allocates ~16 MiB;
    /// an expansion past them is refused by the parser, so a regression (unbounded copies) still fails here.
    /// </summary>
    private const long AliasAllowance = 2 * (256L * DeclarativeParser.MinAliasNodeBudget + 4L * DeclarativeParser.MinAliasCharBudget);

    [Fact]
    public void Declarative_parser_and_loader_hold_their_properties()
    {
        new FuzzRun<Input>("declarative-parser", Inputs, i => i.ToString(), output)
        {
            MemoryBudget = i => (8L << 20) + 4000L * i.Bytes.Length + (i.Bytes.Contains((byte)'*') ? AliasAllowance : 0),
        }.Run(Check);
    }

    private static void Check(Input input)
    {
        var first = Loader.Load(input.Bytes);
        if (first.IsValid == (first.Error is not null)) throw new PropertyFailure("valid and error disagree");
        if (first.IsValid && first.Entities is null) throw new PropertyFailure("valid result without entities");
        if (first.Error is { } e)
        {
            if (e.Code != DbErrorCode.DeclarativeConfig) throw new PropertyFailure("error code is not declarative config: " + e.Code);
            if (string.IsNullOrEmpty(e.Message)) throw new PropertyFailure("error without a message");
            _ = e.Fields?.ToJsonString(); // the error body must serialise
        }
        var second = Loader.Load(input.Bytes);
        if (Describe(first) != Describe(second)) throw new PropertyFailure("loading twice gave different results", Describe(first) + "\n  vs\n" + Describe(second));
        if (!input.Mutated)
        {
            if (!DeclarativeParser.TryParse(input.Bytes, out var root, out var error)) throw new PropertyFailure("a written document does not parse", error);
            if (!JsonNode.DeepEquals(root, input.Tree)) throw new PropertyFailure("a written document parses to another tree", root?.ToJsonString());
        }
    }

    /// <summary>The result as text; a key-auth key the file leaves out is random on every load (as Kong's), so masked.</summary>
    private static string Describe(DeclarativeResult r) => r.Error is { } e
        ? e.Code + e.Message + e.Fields?.ToJsonString()
        : string.Join(";", r.Entities!.Select(kv => kv.Key.Name + "=" + string.Join(",", kv.Value.Select(o =>
            kv.Key.Name == "keyauth_credentials" ? Masked(o, "key") : o.ToJsonString()))));

    private static string Masked(JsonObject row, string field)
    {
        var copy = row.DeepClone().AsObject();
        copy[field] = "(generated)";
        return copy.ToJsonString();
    }

    /// <summary>A clock that stands still, so two loads of one file produce identical rows.</summary>
    private sealed class FixedTime : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    }
}
