using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Gatehouse.Entities;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Gatehouse.Store.Declarative;

/// <summary>
/// Writes the current configuration as a declarative YAML file (what <c>GET /config</c> returns): every
/// entity at top level, foreign keys as plain ids, null fields omitted. Stored values are already transformed
/// (basic-auth passwords hashed), so the file says <c>_transform: false</c>, as Kong's export does: it loads back
/// unchanged. Written event by event with YamlDotNet's emitter (no reflection over object graphs, so it works the
/// same in a NativeAOT build).
/// </summary>
public static partial class DeclarativeExporter
{
    public static string ToYaml(EntityRegistry registry, IReadOnlyDictionary<EntitySchema, IReadOnlyList<JsonObject>> rows)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(rows);
        var text = new StringWriter(CultureInfo.InvariantCulture);
        var emitter = new Emitter(text);
        emitter.Emit(new StreamStart());
        emitter.Emit(new DocumentStart());
        emitter.Emit(new MappingStart());
        String(emitter, "_format_version");
        String(emitter, "3.0");
        String(emitter, "_transform");
        Literal(emitter, "false");
        foreach (var schema in registry.Schemas)
        {
            if (!rows.TryGetValue(schema, out var list) || list.Count == 0) continue;
            String(emitter, schema.Name);
            emitter.Emit(new SequenceStart(AnchorName.Empty, TagName.Empty, isImplicit: true, SequenceStyle.Any));
            foreach (var entity in list) Entity(emitter, schema, entity);
            emitter.Emit(new SequenceEnd());
        }
        emitter.Emit(new MappingEnd());
        emitter.Emit(new DocumentEnd(isImplicit: true));
        emitter.Emit(new StreamEnd());
        return text.ToString();
    }

    private static void Entity(IEmitter emitter, EntitySchema schema, JsonObject entity)
    {
        emitter.Emit(new MappingStart());
        foreach (var field in schema.Fields)
        {
            if (entity[field.Name] is not { } value) continue;
            String(emitter, field.Name);
            if (field.Type == FieldType.Foreign)
            {
                if (EntityJson.ForeignId(entity, field.Name) is { } id) String(emitter, id.ToString());
                else Literal(emitter, "null");
            }
            else Node(emitter, value);
        }
        emitter.Emit(new MappingEnd());
    }

    private static void Node(IEmitter emitter, JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                emitter.Emit(new MappingStart());
                foreach (var (key, value) in o)
                {
                    String(emitter, key);
                    Node(emitter, value);
                }
                emitter.Emit(new MappingEnd());
                break;
            case JsonArray a:
                emitter.Emit(new SequenceStart(AnchorName.Empty, TagName.Empty, isImplicit: true, SequenceStyle.Any));
                foreach (var item in a) Node(emitter, item);
                emitter.Emit(new SequenceEnd());
                break;
            case JsonValue v:
                switch (v.GetValueKind())
                {
                    case JsonValueKind.String: String(emitter, v.GetValue<string>()); break;
                    case JsonValueKind.True: Literal(emitter, "true"); break;
                    case JsonValueKind.False: Literal(emitter, "false"); break;
                    case JsonValueKind.Number: Literal(emitter, Number(v)); break;
                    default: Literal(emitter, "null"); break;
                }
                break;
            default:
                Literal(emitter, "null");
                break;
        }
    }

    private static string Number(JsonValue v)
    {
        EntityJson.TryNumber(v, out var d);
        return d == Math.Floor(d) && Math.Abs(d) < 9e15
            ? ((long)d).ToString(CultureInfo.InvariantCulture)
            : d.ToString("R", CultureInfo.InvariantCulture);
    }

    /// <summary>A scalar read back as what it says: a number, a boolean or null.</summary>
    private static void Literal(IEmitter emitter, string text) =>
        emitter.Emit(new Scalar(AnchorName.Empty, TagName.Empty, text, ScalarStyle.Plain, isPlainImplicit: true, isQuotedImplicit: false));

    /// <summary>A string, quoted when a YAML reader would otherwise take it for something else (a number, a boolean,
    /// null — YAML 1.1's yes/no/on/off included, for readers such as Kong's); the emitter quotes or folds what plain
    /// style cannot hold (a leading dash, ": ", a newline).</summary>
    private static void String(IEmitter emitter, string text) =>
        emitter.Emit(new Scalar(AnchorName.Empty, TagName.Empty, text,
            NotAString().IsMatch(text) ? ScalarStyle.DoubleQuoted : ScalarStyle.Any, isPlainImplicit: true, isQuotedImplicit: true));

    // empty, null forms, the merge key, YAML 1.1 and 1.2 booleans, numbers in YAML 1.1's and 1.2's forms (ints with
    // underscores, sexagesimal, hex, octal, binary, floats, .inf, .nan) and timestamps: quoting too much is harmless,
    // too little changes the value's type on reload; an address such as 127.0.0.1 or an id stays plain
    [GeneratedRegex(@"^(|~|<<|=|null|Null|NULL|y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF"
        + @"|[-+]?[0-9][0-9_]*(:[0-5]?[0-9])*(\.[0-9_]*)?([eE][-+]?[0-9]+)?|[-+]?\.[0-9][0-9_]*([eE][-+]?[0-9]+)?"
        + @"|[-+]?0[xX][0-9a-fA-F_]+|[-+]?0o[0-7_]+|[-+]?0b[01_]+|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)"
        + @"|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt \t].*)?)$", RegexOptions.Singleline)]
    private static partial Regex NotAString();
}
