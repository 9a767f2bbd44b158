using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Gatehouse.Store.Declarative;

/// <summary>
/// Builds the JSON tree of a YAML document straight from the parser's events, so that what a small file can make
/// the gateway build is bounded. A JSON tree has no shared nodes: every alias (and every merge key <c>&lt;&lt;</c>)
/// becomes a copy of its anchor. Each copy is charged to an alias budget <em>before</em> it is made (nodes and
/// scalar characters, both proportional to the input with a floor), so a "billion laughs" file fails after a few
/// MB instead of expanding without bound. Nesting is iterative (an explicit stack, never recursion) and bounded.
/// Plain scalars are resolved with the YAML 1.2 core schema; quoted scalars stay strings.
/// </summary>
internal sealed partial class BoundedYamlReader
{
    private readonly IParser _parser;
    private readonly long _aliasNodeBudget;
    private readonly long _aliasCharBudget;
    private readonly Dictionary<string, Anchored> _anchors = new(StringComparer.Ordinal);
    private readonly Stack<Frame> _stack = new();
    private long _nodes;
    private long _chars;
    private long _aliasNodes;
    private long _aliasChars;

    /// <summary>What an anchor stands for, and what one copy of it costs (its expanded size).</summary>
    private sealed record Anchored(JsonNode? Node, string? ScalarText, long Nodes, long Chars);

    private sealed class Frame(JsonObject? map, JsonArray? seq, string? anchor, long nodesAtStart, long charsAtStart)
    {
        public JsonObject? Map { get; } = map;
        public JsonArray? Seq { get; } = seq;
        public string? Anchor { get; } = anchor;
        public long NodesAtStart { get; } = nodesAtStart;
        public long CharsAtStart { get; } = charsAtStart;
        public string? Key { get; set; }
        public bool HasKey { get; set; }
        public bool KeyIsMerge { get; set; }
        public List<JsonObject>? Merges { get; set; }
    }

    private BoundedYamlReader(IParser parser, int inputLength)
    {
        _parser = parser;
        _aliasNodeBudget = Math.Max(DeclarativeParser.MinAliasNodeBudget, inputLength / 4);
        _aliasCharBudget = Math.Max(DeclarativeParser.MinAliasCharBudget, inputLength);
    }

    /// <summary>The first document's tree (null for an empty stream). Throws <see cref="YamlException"/>.</summary>
    public static JsonNode? Read(string text)
    {
        var reader = new BoundedYamlReader(new SyntaxErrors(new Parser(new StringReader(text))), text.Length);
        return reader.ReadStream();
    }

    /// <summary>
    /// YamlDotNet reports most syntax errors as <see cref="YamlException"/>, but on some malformed input its scanner
    /// and parser throw <see cref="InvalidOperationException"/> (an internal queue or state it did not expect to
    /// be in, e.g. <c>routes: [\nconsu</c>) or <see cref="ArgumentException"/> (a tag or anchor it cannot
    /// represent, e.g. <c>!!binar[y</c>). Those come from the input, so they are syntax errors too; translated here,
    /// where only the parser runs, so that an exception from building the tree is still a bug, not a refusal.
    /// </summary>
    private sealed class SyntaxErrors(IParser inner) : IParser
    {
        public ParsingEvent? Current => inner.Current;

        public bool MoveNext()
        {
            var at = inner.Current?.End ?? Mark.Empty;
            try
            {
                return inner.MoveNext();
            }
            catch (Exception e) when (e is InvalidOperationException or ArgumentException)
            {
                // The library's words, without .NET's "(Parameter 'value')" tail.
                var reason = e is ArgumentException { ParamName: { } name } ? e.Message.Replace($" (Parameter '{name}')", "") : e.Message;
                throw new YamlException(at, at, "invalid YAML after this point: " + reason, e);
            }
        }
    }

    private JsonNode? ReadStream()
    {
        _parser.Consume<StreamStart>();
        JsonNode? root = null;
        if (_parser.TryConsume<DocumentStart>(out _))
        {
            root = ReadDocument();
            _parser.Consume<DocumentEnd>();
            // Later documents are ignored, but still parsed so that a syntax error anywhere is reported. Nothing
            // is built from them, so their aliases cost nothing.
            while (_parser.MoveNext()) { }
        }
        return root;
    }

    private JsonNode? ReadDocument()
    {
        while (true)
        {
            var ev = _parser.Current ?? throw new YamlException("unexpected end of the YAML stream");
            _parser.MoveNext();
            JsonNode? value;
            switch (ev)
            {
                case MappingStart m:
                    Push(ev, new Frame(new JsonObject(), null, AnchorOf(m.Anchor), _nodes, _chars));
                    continue;
                case SequenceStart s:
                    Push(ev, new Frame(null, new JsonArray(), AnchorOf(s.Anchor), _nodes, _chars));
                    continue;
                case MappingEnd or SequenceEnd:
                    value = Pop();
                    break;
                case Scalar scalar when ExpectsKey():
                    SetKey(scalar.Value, scalar.Style is ScalarStyle.Plain or ScalarStyle.Any && scalar.Value == "<<");
                    Count(1, scalar.Value.Length);
                    if (AnchorOf(scalar.Anchor) is { } keyAnchor) _anchors[keyAnchor] = new Anchored(JsonValue.Create(scalar.Value), scalar.Value, 1, scalar.Value.Length);
                    continue;
                case Scalar scalar:
                    Count(1, scalar.Value.Length);
                    value = Resolve(scalar);
                    if (AnchorOf(scalar.Anchor) is { } anchor) _anchors[anchor] = new Anchored(value, scalar.Value, 1, scalar.Value.Length);
                    break;
                case AnchorAlias alias when ExpectsKey():
                    SetKey(ScalarAnchor(alias).ScalarText!, isMerge: false);
                    continue;
                case AnchorAlias alias:
                    value = Copy(alias);
                    break;
                default:
                    throw new YamlException(ev.Start, ev.End, $"unexpected YAML event {ev.GetType().Name}");
            }
            if (_stack.Count == 0) return value;
            Add(ev, value);
        }
    }

    private bool ExpectsKey() => _stack.TryPeek(out var top) && top.Map is not null && !top.HasKey;

    private static string? AnchorOf(AnchorName name) => name.IsEmpty ? null : name.Value;

    private void Push(ParsingEvent ev, Frame frame)
    {
        if (ExpectsKey()) throw new YamlException(ev.Start, ev.End, "mapping keys must be scalars");
        if (_stack.Count >= DeclarativeParser.MaxDepth)
            throw new YamlException(ev.Start, ev.End, $"nesting deeper than {DeclarativeParser.MaxDepth} levels");
        Count(1, 0);
        _stack.Push(frame);
    }

    private JsonNode Pop()
    {
        var frame = _stack.Pop();
        JsonNode node;
        if (frame.Map is { } map)
        {
            // Merge keys: explicit keys win, then earlier merge sources over later ones (YAML 1.1 merge type).
            foreach (var source in frame.Merges ?? [])
                foreach (var (k, v) in source)
                    if (!map.ContainsKey(k)) map[k] = v?.DeepClone();
            node = map;
        }
        else node = frame.Seq!;
        if (frame.Anchor is { } anchor) _anchors[anchor] = new Anchored(node, null, _nodes - frame.NodesAtStart, _chars - frame.CharsAtStart);
        return node;
    }

    private void SetKey(string key, bool isMerge)
    {
        var top = _stack.Peek();
        top.Key = key;
        top.HasKey = true;
        top.KeyIsMerge = isMerge;
    }

    private void Add(ParsingEvent ev, JsonNode? value)
    {
        var top = _stack.Peek();
        if (top.Seq is { } seq) { seq.Add(value); return; }
        top.HasKey = false;
        if (top.KeyIsMerge)
        {
            top.Merges ??= [];
            if (value is JsonObject one) top.Merges.Add(one);
            else if (value is JsonArray many && many.All(m => m is JsonObject)) top.Merges.AddRange(many.Select(m => m!.AsObject()));
            else throw new YamlException(ev.Start, ev.End, "a merge key '<<' needs a mapping or a sequence of mappings");
            return;
        }
        top.Map![top.Key!] = value;
    }

    private Anchored ScalarAnchor(AnchorAlias alias)
    {
        var anchored = Lookup(alias);
        if (anchored.ScalarText is null) throw new YamlException(alias.Start, alias.End, "mapping keys must be scalars");
        Count(1, anchored.ScalarText.Length);
        return anchored;
    }

    private JsonNode? Copy(AnchorAlias alias)
    {
        var anchored = Lookup(alias);
        _aliasNodes += anchored.Nodes;
        _aliasChars += anchored.Chars;
        if (_aliasNodes > _aliasNodeBudget || _aliasChars > _aliasCharBudget)
            throw new YamlException(alias.Start, alias.End,
                $"aliases expand to more than {_aliasNodeBudget} nodes or {_aliasCharBudget} characters");
        Count(anchored.Nodes, anchored.Chars);
        return anchored.Node?.DeepClone();
    }

    private Anchored Lookup(AnchorAlias alias) =>
        _anchors.TryGetValue(alias.Value.Value, out var anchored) ? anchored
            : throw new YamlException(alias.Start, alias.End, $"unknown anchor '{alias.Value.Value}'");

    /// <summary>Everything built so far, copies included: an anchor's cost is the growth between its start and end.</summary>
    private void Count(long nodes, long chars)
    {
        _nodes += nodes;
        _chars += chars;
    }

    private static JsonNode? Resolve(Scalar scalar)
    {
        var value = scalar.Value;
        var tag = scalar.Tag.IsEmpty ? null : scalar.Tag.Value;
        if (tag is "tag:yaml.org,2002:str" || scalar.Style is not (ScalarStyle.Plain or ScalarStyle.Any)) return JsonValue.Create(value);
        if (value is "" or "~" or "null" or "Null" or "NULL") return null;
        if (value is "true" or "True" or "TRUE") return JsonValue.Create(true);
        if (value is "false" or "False" or "FALSE") return JsonValue.Create(false);
        if (IntPattern().IsMatch(value) && long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l))
            return JsonValue.Create(l);
        if (FloatPattern().IsMatch(value) && double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d))
            return JsonValue.Create(d);
        return JsonValue.Create(value);
    }

    [GeneratedRegex("^[-+]?[0-9]+$")]
    private static partial Regex IntPattern();

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")]
    private static partial Regex FloatPattern();
}
