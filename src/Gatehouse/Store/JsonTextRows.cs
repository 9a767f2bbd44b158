using System.Buffers;
using System.Collections;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Entities;

namespace Gatehouse.Store;

/// <summary>
/// One entity's rows kept as their UTF-8 JSON text, each parsed again when read (a new tree per read). A validated
/// route is ~0.5 KB of text and ~2.7 KB as a <see cref="JsonObject"/> tree: the 100,000 rows of a large declarative
/// file held as trees from validation to publication were most of a load's peak. A row read back is what the store
/// reads back (its text parsed), so publishing these rows publishes what a reload would. Rows are appended, or let go
/// of one by one (<see cref="Release"/>) by a reader that reads each once (<see cref="ConsumedRows"/>).
/// </summary>
public sealed class JsonTextRows : IReadOnlyList<JsonObject>
{
    private readonly List<(string Id, byte[]? Json)> _rows;
    private ArrayBufferWriter<byte>? _buffer;
    private Utf8JsonWriter? _writer;

    public JsonTextRows() => _rows = [];

    private JsonTextRows(List<(string Id, byte[]? Json)> rows) => _rows = rows;

    /// <summary>The rows of <paramref name="rows"/> as text (each must have a string <c>id</c>).</summary>
    public static JsonTextRows Of(IEnumerable<JsonObject> rows)
    {
        var text = new JsonTextRows();
        foreach (var row in rows) text.Add(row);
        return text;
    }

    public int Count => _rows.Count;

    /// <summary>Row <paramref name="index"/>, parsed from its text: a tree of its own, which the caller may change.</summary>
    public JsonObject this[int index] => JsonNode.Parse(_rows[index].Json ?? throw new InvalidOperationException("this row has been let go of"))!.AsObject();

    /// <summary>Row <paramref name="index"/>'s UTF-8 JSON text, not parsed (a store writes it as the row's document).</summary>
    public ReadOnlyMemory<byte> TextAt(int index) => _rows[index].Json ?? throw new InvalidOperationException("this row has been let go of");

    /// <summary>The <c>id</c> of row <paramref name="index"/>, without parsing it.</summary>
    public string IdAt(int index) => _rows[index].Id;

    /// <summary>Appends <paramref name="row"/> as its JSON text; the tree is not kept.</summary>
    public void Add(JsonObject row)
    {
        ArgumentNullException.ThrowIfNull(row);
        var id = EntityJson.String(row, "id") ?? throw new ArgumentException("a row without a string id", nameof(row));
        _buffer ??= new ArrayBufferWriter<byte>(1024);
        _buffer.ResetWrittenCount();
        if (_writer is null) _writer = new Utf8JsonWriter(_buffer);
        else _writer.Reset(_buffer);
        row.WriteTo(_writer);
        _writer.Flush();
        _rows.Add((id, _buffer.WrittenSpan.ToArray()));
    }

    /// <summary>Lets go of row <paramref name="index"/>'s text: reading it afterwards is an error.</summary>
    public void Release(int index) => _rows[index] = (_rows[index].Id, null);

    /// <summary>The same rows (their text shared, not copied) in the order of their ids, as the store's
    /// <c>ORDER BY id</c> lists them (SQLite compares text byte by byte: ordinal order for ASCII ids).</summary>
    public JsonTextRows OrderedById()
    {
        // OrderBy is stable, though ids are unique within an entity
        return new JsonTextRows([.. _rows.OrderBy(row => row.Id, StringComparer.Ordinal)]);
    }

    public IEnumerator<JsonObject> GetEnumerator()
    {
        for (var i = 0; i < _rows.Count; i++) yield return this[i];
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
