using System.Text;
using System.Text.Json.Nodes;

namespace Gatehouse.Admin;

/// <summary>
/// Turns form arguments into a JSON tree with Kong's conventions (<c>kong/api/arguments.lua</c>):
/// <c>methods[]=GET</c> appends, <c>hosts[2]=x</c> sets a position, <c>headers.x-a=v</c> or
/// <c>headers[x-a]=v</c> nests, and a repeated plain key becomes an array. Values stay strings; the
/// schema-driven <see cref="FormValueInference"/> converts them afterwards. The arguments come from the one form
/// decoder (<see cref="Plugins.Bodies.FormUrlEncoded"/>) or the one multipart parser
/// (<see cref="Plugins.Bodies.MultipartBody"/>).
/// </summary>
internal static class FormArgumentDecoder
{
    private readonly record struct Segment(string? Name, int? Index, bool Append);

    /// <summary>A null value is an argument without <c>=</c>: <c>true</c>, as <c>ngx.decode_args</c> gives it.</summary>
    public static JsonObject Decode(IEnumerable<KeyValuePair<string, string?>> arguments)
    {
        var root = new JsonObject();
        var slots = new Dictionary<JsonArray, Slots>(ReferenceEqualityComparer.Instance);
        foreach (var (key, value) in arguments)
        {
            var segments = Parse(key);
            if (segments.Count == 0 || segments[0].Name is null) continue;
            Insert(root, segments, value, slots);
        }
        return Compact(root, slots).AsObject();
    }

    /// <summary>
    /// An array's elements by position while decoding. Positions are kept sparse, so <c>hosts[999999999]=x</c> costs
    /// one entry, not a billion nulls; the gaps close when the tree is compacted, as Kong's decoder closes them.
    /// </summary>
    private sealed class Slots
    {
        public readonly SortedDictionary<long, JsonNode> Items = new();
        public long Next;

        public void Append(JsonNode node) => Items[Next++] = node;

        public void Set(long position, JsonNode node)
        {
            Items[position] = node;
            Next = Math.Max(Next, position + 1);
        }
    }

    private static List<Segment> Parse(string key)
    {
        var segments = new List<Segment>();
        var i = 0;
        var name = new StringBuilder();
        void Flush() { if (name.Length > 0) { segments.Add(new Segment(name.ToString(), null, false)); name.Clear(); } }
        while (i < key.Length)
        {
            var c = key[i];
            if (c == '.') { Flush(); i++; continue; }
            if (c == '[')
            {
                var close = key.IndexOf(']', i);
                if (close < 0) { name.Append(key[i..]); break; }
                Flush();
                var inner = key[(i + 1)..close];
                segments.Add(inner.Length == 0 ? new Segment(null, null, true)
                    : int.TryParse(inner, out var n) ? new Segment(null, n, false) : new Segment(inner, null, false));
                i = close + 1;
                continue;
            }
            name.Append(c);
            i++;
        }
        Flush();
        return segments;
    }

    private static void Insert(JsonObject root, List<Segment> segments, string? value, Dictionary<JsonArray, Slots> slots)
    {
        JsonNode container = root;
        for (var i = 0; i < segments.Count; i++)
        {
            var last = i == segments.Count - 1;
            var seg = segments[i];
            JsonNode? next = last ? (value is null ? JsonValue.Create(true) : JsonValue.Create(value)) : segments[i + 1].Name is not null ? new JsonObject() : NewArray(slots);
            container = Place(container, seg, next!, last, slots);
        }
    }

    private static JsonArray NewArray(Dictionary<JsonArray, Slots> slots)
    {
        var array = new JsonArray();
        slots[array] = new Slots();
        return array;
    }

    private static JsonNode Place(JsonNode container, Segment seg, JsonNode fresh, bool last, Dictionary<JsonArray, Slots> slots)
    {
        if (container is JsonObject obj && seg.Name is { } name)
        {
            var existing = obj[name];
            if (existing is null) { obj[name] = fresh; return fresh; }
            if (!last) return existing;
            if (existing is JsonArray arr) slots[arr].Append(fresh); // repeated plain key
            else
            {
                obj[name] = null; // detaches the existing value so the new array can hold it
                var repeated = NewArray(slots);
                slots[repeated].Append(existing);
                slots[repeated].Append(fresh);
                obj[name] = repeated;
            }
            return fresh;
        }
        if (container is JsonArray array)
        {
            var items = slots[array];
            if (seg.Append || seg.Index is null) { items.Append(fresh); return fresh; }
            var pos = Math.Max(0L, seg.Index.Value - 1L);
            if (items.Items.TryGetValue(pos, out var there) && !last) return there;
            items.Set(pos, fresh);
            return fresh;
        }
        return fresh; // shape conflict: ignore the argument
    }

    private static JsonNode Compact(JsonNode node, Dictionary<JsonArray, Slots> slots) => node switch
    {
        JsonObject o => new JsonObject(o.Select(p => KeyValuePair.Create(p.Key, p.Value is null ? null : (JsonNode?)Compact(p.Value, slots)))),
        JsonArray a => new JsonArray([.. slots[a].Items.Values.Select(x => (JsonNode?)Compact(x, slots))]),
        _ => node.DeepClone(),
    };
}
