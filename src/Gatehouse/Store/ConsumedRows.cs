using System.Collections;
using System.Text.Json.Nodes;

namespace Gatehouse.Store;

/// <summary>
/// One entity's rows, handed to a model conversion that reads them once, in order: each row is let go of (its slot
/// cleared) as soon as the conversion has moved past it. A 100,000-route load otherwise held every row as a JSON
/// tree (~2.5 KB per route) until the last model was built, on top of the models and the previous configuration, which
/// made the peak of the load. Reading a row again, by index or by a second enumeration, is an error.
/// </summary>
internal sealed class ConsumedRows : IReadOnlyList<JsonObject>
{
    private readonly Func<int, JsonObject?> _read;
    private readonly Action<int> _release;
    private bool _enumerated;

    /// <param name="rows">the caller's own rows, which this clears: nothing else may read them afterwards</param>
    public ConsumedRows(IList<JsonObject> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        Count = rows.Count;
        _read = i => rows[i];
        _release = i => rows[i] = null!;
    }

    /// <param name="rows">the caller's own rows, whose text this lets go of: nothing else may read them afterwards</param>
    public ConsumedRows(JsonTextRows rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        Count = rows.Count;
        _read = i => rows[i];
        _release = rows.Release;
    }

    public int Count { get; }

    public JsonObject this[int index] => _read(index) ?? throw new InvalidOperationException("this row has been consumed");

    public IEnumerator<JsonObject> GetEnumerator()
    {
        if (_enumerated) throw new InvalidOperationException("the rows are read once");
        _enumerated = true;
        return Consume();
    }

    private IEnumerator<JsonObject> Consume()
    {
        for (var i = 0; i < Count; i++)
        {
            var row = this[i];
            _release(i);
            yield return row;
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
