using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gatehouse.Tests.Reliability;

/// <summary>
/// Structure-aware input material for the fuzz targets: random Kong entities (valid most of the time, with wrong
/// types and unknown fields mixed in), a YAML emitter with random styles and anchors, and byte/text mutators that
/// work around a valid input rather than replacing it with noise. Everything is driven by one <see cref="Random"/>
/// seeded from CsCheck, so an input is reproduced from its seed.
/// </summary>
internal static class KongShapes
{
    public static readonly string[] Methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "get", "TRACE", "CONNECT", "G\u00c9T", ""];
    public static readonly string[] Plugins = ["key-auth", "basic-auth", "acl", "cors", "rate-limiting", "request-transformer", "response-transformer",
        "correlation-id", "ip-restriction", "request-termination", "prometheus", "no-such-plugin", ""];
    private static readonly string[] Words = ["a", "svc", "route-1", "x", "demo", "admin", "ü", "a b", "-", "_", "日本", "\u0000", "a.b", "A", "1", "null", "true", "~"];
    private static readonly string[] Hosts = ["example.com", "*.example.com", "example.*", "a.b.c", "127.0.0.1", "[::1]", "EXAMPLE.COM", "ex ample", "*", "*.*", "a..b", "xn--bcher-kva.example", ""];
    private static readonly string[] Escapes = ["%2F", "%2f", "%25", "%20", "%00", "%", "%zz", "%E2%82%AC", "%C3", "%FF", "+", "//", "/./", "/../", ";", "?", "#", "\\", "~"];

    private static JsonNode? W(Random r) => Word(r);

    private static JsonNode? H(Random r) => Host(r);

    public static string Word(Random r) => r.Next(4) == 0 ? Words[r.Next(Words.Length)] : "n" + r.Next(50);

    public static string Host(Random r) => r.Next(3) == 0 ? Hosts[r.Next(Hosts.Length)] : $"h{r.Next(20)}.test";

    /// <summary>A URL path built from segments, escapes and dot segments (routes and requests share the alphabet).</summary>
    public static string Path(Random r, int maxSegments = 5)
    {
        var sb = new StringBuilder();
        var n = r.Next(maxSegments + 1);
        for (var i = 0; i < n; i++)
        {
            sb.Append('/');
            switch (r.Next(8))
            {
                case 0: sb.Append(Escapes[r.Next(Escapes.Length)]); break;
                case 1: sb.Append(Word(r)); sb.Append(Escapes[r.Next(Escapes.Length)]); break;
                case 2: break; // empty segment
                default: sb.Append(Word(r)); break;
            }
        }
        return sb.Length == 0 ? "/" : sb.ToString();
    }

    public static string Regex(Random r)
    {
        string[] pieces = ["[a-z]+", @"\d+", "(?<id>[^/]+)", "(x|y)", ".*", "foo", "/", @"\.", "(a+)+", "[", "(?<n>", "$", "^", "{2,3}", "(?i)", "\\", "(?=a)", @"(b)\1", "(?>c+)", ")|("];
        var sb = new StringBuilder("~");
        if (r.Next(2) == 0) sb.Append('/');
        for (var i = r.Next(1, 5); i > 0; i--) sb.Append(pieces[r.Next(pieces.Length)]);
        return sb.ToString();
    }

    public static JsonNode? Scalar(Random r) => r.Next(12) switch
    {
        0 => null,
        1 => r.Next(2) == 0,
        2 => r.Next(-2, 70000),
        3 => long.MaxValue - r.Next(2),
        4 => r.NextDouble() * 100,
        5 => Path(r),
        6 => Host(r),
        7 => new string('x', r.Next(0, 300)),
        8 => Random(r),
        _ => Word(r),
    };

    public static string Random(Random r)
    {
        var chars = new char[r.Next(0, 12)];
        for (var i = 0; i < chars.Length; i++) chars[i] = (char)(r.Next(3) == 0 ? r.Next(0x20, 0x7f) : r.Next(0, 0x3000));
        return new string(chars);
    }

    /// <summary>Any value: sometimes the right type for a field, sometimes not.</summary>
    public static JsonNode? Value(Random r, int depth) => depth <= 0 || r.Next(3) > 0 ? Scalar(r) : r.Next(2) == 0
        ? new JsonArray([.. Enumerable.Range(0, r.Next(4)).Select(_ => Value(r, depth - 1))])
        : new JsonObject(Enumerable.Range(0, r.Next(4)).Select(i => KeyValuePair.Create(Word(r) + i, Value(r, depth - 1))));

    private static JsonArray Strings(Random r, Func<Random, string> item, int max) => [.. Enumerable.Range(0, r.Next(max + 1)).Select(_ => (JsonNode)item(r))];

    /// <summary>Mostly well-typed fields of one entity, with an occasional wrong type or unknown field.</summary>
    private static JsonObject Fields(Random r, params (string Name, Func<Random, JsonNode?> Make)[] fields)
    {
        var obj = new JsonObject();
        foreach (var (name, make) in fields)
            if (r.Next(3) > 0) obj[name] = r.Next(12) == 0 ? Value(r, 1) : make(r);
        if (r.Next(10) == 0) obj[Word(r)] = Value(r, 2);
        if (r.Next(15) == 0) obj["id"] = r.Next(2) == 0 ? Guid.NewGuid().ToString() : Word(r);
        if (r.Next(10) == 0) obj["tags"] = Strings(r, Word, 3);
        return obj;
    }

    public static JsonObject Service(Random r, int depth) => With(Fields(r,
        ("name", W),
        ("url", r => r.Next(4) == 0 ? Word(r) : $"{(r.Next(5) == 0 ? "grpc" : "http")}://{Host(r)}:{r.Next(0, 70000)}{Path(r, 2)}"),
        ("host", H), ("port", r => r.Next(-1, 70000)), ("protocol", r => r.Next(4) == 0 ? Word(r) : "http"),
        ("path", r => Path(r, 3)), ("retries", r => r.Next(-1, 40)), ("connect_timeout", r => r.Next(0, 100000)),
        ("enabled", r => r.Next(4) > 0)),
        depth, r, ("routes", Route), ("plugins", Plugin));

    public static JsonObject Route(Random r, int depth) => With(Fields(r,
        ("name", W),
        ("paths", r => Strings(r, r => r.Next(4) == 0 ? Regex(r) : Path(r, 3), 3)),
        ("hosts", r => Strings(r, Host, 3)),
        ("methods", r => Strings(r, r => Methods[r.Next(Methods.Length)], 3)),
        ("headers", r => new JsonObject(Enumerable.Range(0, r.Next(3)).Select(i => KeyValuePair.Create<string, JsonNode?>("x-h" + i, Strings(r, Word, 2))))),
        ("strip_path", r => r.Next(2) == 0), ("preserve_host", r => r.Next(2) == 0),
        ("protocols", r => Strings(r, r => r.Next(5) == 0 ? Word(r) : "http", 2)),
        ("regex_priority", r => r.Next(-5, 5)), ("path_handling", r => r.Next(3) switch { 0 => "v0", 1 => "v1", _ => Word(r) }),
        ("service", r => r.Next(2) == 0 ? Word(r) : new JsonObject { ["name"] = Word(r) })),
        depth, r, ("plugins", Plugin));

    public static JsonObject Plugin(Random r, int depth) => Fields(r,
        ("name", r => Plugins[r.Next(Plugins.Length)]),
        ("config", r => r.Next(3) == 0 ? new JsonObject { ["key_names"] = Strings(r, Word, 2), ["minute"] = r.Next(-1, 100) } : Value(r, 2)),
        ("enabled", r => r.Next(4) > 0), ("protocols", r => Strings(r, _ => "http", 1)));

    public static JsonObject Consumer(Random r, int depth) => With(Fields(r,
        ("username", W), ("custom_id", W)),
        depth, r, ("keyauth_credentials", (r, _) => Fields(r, ("key", W))), ("acls", (r, _) => Fields(r, ("group", W))),
        ("basicauth_credentials", (r, _) => Fields(r, ("username", W), ("password", W))), ("plugins", Plugin));

    private static JsonObject With(JsonObject obj, int depth, Random r, params (string Name, Func<Random, int, JsonObject> Make)[] children)
    {
        if (depth <= 0) return obj;
        foreach (var (name, make) in children)
            if (r.Next(3) == 0) obj[name] = new JsonArray([.. Enumerable.Range(0, r.Next(3)).Select(_ => (JsonNode)make(r, depth - 1))]);
        return obj;
    }

    /// <summary>A kong.yml tree: format version, top-level entity lists, nested children.</summary>
    public static JsonObject Config(Random r)
    {
        var root = new JsonObject();
        if (r.Next(12) > 0) root["_format_version"] = r.Next(10) switch { 0 => "2.1", 1 => "9.9", 2 => 3, _ => "3.0" };
        if (r.Next(6) == 0) root["_transform"] = r.Next(2) == 0;
        var lists = new (string Name, Func<Random, int, JsonObject> Make)[]
        {
            ("services", Service), ("routes", Route), ("consumers", Consumer), ("plugins", Plugin),
            ("keyauth_credentials", (r, _) => Fields(r, ("key", W), ("consumer", W))),
        };
        foreach (var (name, make) in lists)
            if (r.Next(2) == 0) root[name] = new JsonArray([.. Enumerable.Range(0, r.Next(4)).Select(_ => (JsonNode)make(r, 2))]);
        if (r.Next(15) == 0) root[Word(r)] = Value(r, 2);
        return root;
    }

    /// <summary>YAML for <paramref name="node"/> with random block/flow styles and scalar quoting; the text parses
    /// back to the same tree (strings that could read as another type are quoted). Repeated subtrees may be written
    /// once with an anchor and then as aliases.</summary>
    public static string Yaml(Random r, JsonNode? node)
    {
        var sb = new StringBuilder();
        var anchors = new Dictionary<string, string>();
        // The root stays a block mapping: text starting with '{' is read as JSON (DeclarativeParser).
        Emit(r, node, sb, 0, anchors, inFlow: false, root: true);
        return sb.ToString();
    }

    private static void Emit(Random r, JsonNode? node, StringBuilder sb, int indent, Dictionary<string, string> anchors, bool inFlow, bool root = false)
    {
        var flow = node is JsonObject or JsonArray && (inFlow || node is JsonObject { Count: 0 } or JsonArray { Count: 0 } || (!root && r.Next(4) == 0));
        if (!root && node is JsonObject or JsonArray)
        {
            var text = node.ToJsonString();
            if (text.Length > 8 && anchors.TryGetValue(text, out var alias)) { sb.Append('*').Append(alias); return; }
            // anchors only on flow collections: "&a" before a block sequence entry on the same line is not YAML
            if (flow && text.Length > 8 && r.Next(3) == 0) { var name = "a" + anchors.Count; anchors[text] = name; sb.Append('&').Append(name).Append(' '); }
        }
        switch (node)
        {
            case JsonObject o when flow:
                sb.Append('{');
                var first = true;
                foreach (var (k, v) in o)
                {
                    if (!first) sb.Append(", ");
                    first = false;
                    sb.Append(Quote(k)).Append(": ");
                    Emit(r, v, sb, indent, anchors, inFlow: true);
                }
                sb.Append('}');
                break;
            case JsonObject o:
                var firstKey = true;
                foreach (var (k, v) in o)
                {
                    if (!firstKey || sb.Length == 0 || sb[^1] == '\n') { if (sb.Length > 0 && sb[^1] != '\n') sb.Append('\n'); sb.Append(' ', indent); }
                    firstKey = false;
                    sb.Append(Quote(k)).Append(':');
                    if (v is JsonObject { Count: > 0 } or JsonArray { Count: > 0 }) sb.Append('\n').Append(' ', indent + 2);
                    else sb.Append(' ');
                    Emit(r, v, sb, indent + 2, anchors, inFlow: false);
                }
                break;
            case JsonArray a when flow:
                sb.Append('[');
                for (var i = 0; i < a.Count; i++)
                {
                    if (i > 0) sb.Append(", ");
                    Emit(r, a[i], sb, indent, anchors, inFlow: true);
                }
                sb.Append(']');
                break;
            case JsonArray a:
                for (var i = 0; i < a.Count; i++)
                {
                    if (i > 0) sb.Append('\n').Append(' ', indent);
                    sb.Append("- ");
                    Emit(r, a[i], sb, indent + 2, anchors, inFlow: false);
                }
                break;
            case null:
                sb.Append(r.Next(2) == 0 ? "null" : "~");
                break;
            case JsonValue v when v.GetValueKind() == JsonValueKind.String:
                sb.Append(Quote(v.GetValue<string>()));
                break;
            default:
                sb.Append(node.ToJsonString());
                break;
        }
    }

    private static string Quote(string s)
    {
        var plain = s.Length > 0 && s.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '/' or '.') && char.IsAsciiLetter(s[0])
            && s is not ("null" or "Null" or "NULL" or "true" or "True" or "TRUE" or "false" or "False" or "FALSE" or "y" or "n");
        return plain ? s : JsonSerializer.Serialize(s, JsonOpts); // a JSON string is a valid YAML double-quoted scalar
    }

    private static readonly JsonSerializerOptions JsonOpts = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static readonly string[] Tokens =
    [
        "&a ", "*a", "*nope", "<<: *a\n", "!!binary ", "!!str ", "!!int ", "!custom ", "%YAML 1.1\n", "---\n", "...\n", "? ", "- ", ": ", "{", "}", "[", "]",
        ",", "\"", "'", "|\n", ">-\n", "\t", "\r\n", "#", "\\u0000", "\\ud800", "\u2028", "\uFEFF", "null", "1e400", "0x1F", ".inf", "-.nan", "9223372036854775808",
        "{\"_format_version\":\"3.0\"}", "services:\n- name: x\n", "&b [*a, *a, *a, *a]",
    ];

    /// <summary>YAML's structural characters, written over one byte by <see cref="Mutate"/>.</summary>
    private const string Structural = "\n\t :-[]{}&*!|>'\"%@`,#?";

    /// <summary>Byte-level mutations around a valid document: splice tokens, drop, duplicate or flip ranges,
    /// truncate, insert invalid UTF-8, nest deeply, or prepend an anchor fan-out.</summary>
    public static byte[] Mutate(Random r, byte[] input)
    {
        var bytes = new List<byte>(input);
        for (var n = r.Next(1, 4); n > 0; n--)
        {
            var at = bytes.Count == 0 ? 0 : r.Next(bytes.Count + 1);
            switch (r.Next(10))
            {
                case 0: bytes.InsertRange(at, Encoding.UTF8.GetBytes(Tokens[r.Next(Tokens.Length)])); break;
                case 1: if (at < bytes.Count) bytes.RemoveRange(at, Math.Min(r.Next(1, 16), bytes.Count - at)); break;
                case 2: if (at < bytes.Count) { var len = Math.Min(r.Next(1, 32), bytes.Count - at); bytes.InsertRange(at, bytes.GetRange(at, len)); } break;
                case 3: if (at < bytes.Count) bytes[at] ^= (byte)(1 << r.Next(8)); break;
                case 4: if (at < bytes.Count) bytes.RemoveRange(at, bytes.Count - at); break;
                case 5: bytes.InsertRange(at, [(byte)r.Next(0x80, 0x100)]); break;
                case 6: bytes.InsertRange(at, Encoding.UTF8.GetBytes(new string('[', r.Next(1, 200)))); break;
                case 7: bytes.InsertRange(0, Encoding.UTF8.GetBytes(AnchorFan(r) + "\n")); break;
                case 8: if (at < bytes.Count) bytes[at] = (byte)Structural[r.Next(Structural.Length)]; break;
                default: bytes.InsertRange(at, Encoding.UTF8.GetBytes(Random(r))); break;
            }
        }
        return [.. bytes];
    }

    /// <summary>A small anchor fan-out (fan^depth references); bounded so that a correct parser handles it in
    /// milliseconds while one that expands aliases copies fan^depth nodes.</summary>
    public static string AnchorFan(Random r)
    {
        var fan = r.Next(2, 7);
        var depth = r.Next(2, 7);
        var sb = new StringBuilder("_comment: &l0 [x]\n");
        for (var i = 1; i <= depth; i++)
            sb.Append($"_c{i}: &l{i} [").Append(string.Join(",", Enumerable.Repeat($"*l{i - 1}", fan))).Append("]\n");
        return sb.ToString();
    }
}
