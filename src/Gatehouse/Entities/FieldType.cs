namespace Gatehouse.Entities;

/// <summary>The value types Kong's schema language knows; each has its own type-error message.</summary>
public enum FieldType
{
    String,
    Integer,
    Number,
    Boolean,
    Array,
    Set,
    Map,
    Record,
    /// <summary>A reference to another entity, written as <c>{"id": "&lt;uuid&gt;"}</c>.</summary>
    Foreign,
    /// <summary>Any JSON value, kept as given (e.g. a filter's configuration); checked by <c>Custom</c> only.</summary>
    Json,
}
