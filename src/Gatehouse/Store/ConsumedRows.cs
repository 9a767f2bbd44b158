using System.Collections;
using System.Text.Json.Nodes;

namespace Gatehouse.Store;

/// <summary>
/// One entity's rows (<see cref="JsonTextRows"/>), handed to a model conversion that reads them once, in order: each
/// row's text is let go of as soon as the conversion has moved past it. A 100,000-route load otherwise held every row
/// until the last model was built, on top of the models and the previous configuration, which
/// made the peak of the load. Reading a row again, by index or by a second enumeration, is an error.
/// </summary>
internal sealed class ConsumedRows : IReadOnlyList<JsonObject>
{
    private readonly JsonTextRows _rows;
    private bool _enumerated;

    /// <param name="rows">the caller's own rows, whose text this lets go of: nothing else may read them afterwards</param>
    public ConsumedRows(JsonTextRows rows) => _rows = rows ?? throw new ArgumentNullException(nameof(rows));

    public int Count => _rows.Count;

    /// <summary>Throws <see cref="InvalidOperationException"/> for a row already consumed.</summary>
    public JsonObject this[int index] => _rows[index];

    public IEnumerator<JsonObject> GetEnumerator()
    {
        if (_enumerated) throw new InvalidOperationException("the rows are read once");
        _enumerated = true;
        return Consume();
    }

    private IEnumerator<JsonObject> Consume()
    {
        for (var i = 0; i < _rows.Count; i++)
        {
            var row = _rows[i];
            _rows.Release(i);
            yield return row;
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
