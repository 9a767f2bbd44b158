using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gatehouse.Store.Declarative;

/// <summary>
/// A parsed file as one immutable JSON value: its UTF-8 text and System.Text.Json's index of it, a few bytes per token
/// in two arrays, instead of an object per node. 100,000 routes are ~90 MB as a <see cref="JsonNode"/> tree and ~25 MB
/// this way, and nothing in it points at anything, so what a load makes of one record is not held by the record.
/// </summary>
internal static class CompactJson
{
    private static readonly JsonWriterOptions Options = new()
    {
        // the text is read back here only, never sent: escaping non-ASCII would only make it longer
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = true,
        Indented = false,
    };

    /// <summary>Writes <paramref name="tree"/> as text and indexes it. Fails, with the reason, only on a string with no
    /// UTF-8 form (a lone surrogate).</summary>
    public static bool TryFrom(JsonNode tree, out JsonElement compact, out string? error)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(64 * 1024);
        try
        {
            using (var writer = new Utf8JsonWriter(buffer, Options)) Write(writer, tree);
        }
        catch (ArgumentException e)
        {
            compact = default;
            error = "a string has no UTF-8 form: " + e.Message;
            return false;
        }
        // not disposed, on purpose: its index (tens of MB for a large file) is rented from the shared array pool, which
        // would keep it once given back; left to the collector, it goes with the load's other garbage
        var document = JsonDocument.Parse(buffer.WrittenMemory, new JsonDocumentOptions { MaxDepth = DeclarativeParser.MaxDepth + 1 });
        compact = document.RootElement;
        error = null;
        return true;
    }

    private static void Write(Utf8JsonWriter writer, JsonNode? node)
    {
        switch (node)
        {
            case null:
                writer.WriteNullValue();
                return;
            case JsonObject obj:
                writer.WriteStartObject();
                foreach (var (name, value) in obj)
                {
                    writer.WritePropertyName(name);
                    Write(writer, value);
                }
                writer.WriteEndObject();
                return;
            case JsonArray array:
                writer.WriteStartArray();
                foreach (var value in array) Write(writer, value);
                writer.WriteEndArray();
                return;
            case JsonValue value when value.TryGetValue<double>(out var d) && !double.IsFinite(d):
                // a YAML float beyond double's range (1e400) is infinite here; JSON has no infinity, so it is written as
                // a number beyond the range again, which reads back as the same infinite value
                writer.WriteRawValue(d > 0 ? "1e400" : "-1e400", skipInputValidation: true);
                return;
            default:
                node.WriteTo(writer);
                return;
        }
    }
}
