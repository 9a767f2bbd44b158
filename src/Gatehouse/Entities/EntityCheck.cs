using System.Text.Json.Nodes;

namespace Gatehouse.Entities;

/// <summary>
/// A cross-field rule stated as data (Kong's <c>entity_checks</c>). A check is skipped when one of the
/// fields it reads already failed validation, as Kong does, so errors are not reported twice.
/// </summary>
public abstract record EntityCheck
{
    /// <summary>The fields this check reads.</summary>
    public abstract IReadOnlyList<string> Sources { get; }

    /// <summary>Returns null when the entity passes, otherwise where and what to report.</summary>
    public abstract CheckFailure? Evaluate(JsonObject entity);

    internal static string Quote(IEnumerable<string> fields) => string.Join(", ", fields.Select(f => $"'{f}'"));

    /// <summary>Kong's notion of "set": not null and, for collections, not empty.</summary>
    internal static bool IsSet(JsonNode? value) => value switch
    {
        null => false,
        JsonArray a => a.Count > 0,
        JsonObject o => o.Count > 0,
        _ => true,
    };
}

/// <summary>Where a check failed: <see cref="Field"/> null means the entity itself ("@entity").</summary>
public sealed record CheckFailure(string? Field, string Message);

/// <summary><c>mutually_exclusive</c>: at most one of the fields may be set.</summary>
public sealed record MutuallyExclusiveCheck(IReadOnlyList<string> Fields) : EntityCheck
{
    public override IReadOnlyList<string> Sources => Fields;

    public override CheckFailure? Evaluate(JsonObject entity) =>
        Fields.Count(f => IsSet(entity[f])) > 1
            ? new CheckFailure(null, $"only one or none of these fields must be set: {Quote(Fields)}")
            : null;
}

/// <summary><c>at_least_one_of</c>: one of the fields must be set.</summary>
public sealed record AtLeastOneOfCheck(IReadOnlyList<string> Fields) : EntityCheck
{
    public override IReadOnlyList<string> Sources => Fields;

    public override CheckFailure? Evaluate(JsonObject entity) =>
        Fields.Any(f => IsSet(entity[f]))
            ? null
            : new CheckFailure(null, $"at least one of these fields must be non-empty: {Quote(Fields)}");
}

/// <summary>
/// <c>conditional</c>: when <see cref="IfField"/> matches, <see cref="ThenField"/> must pass <see cref="ThenMatch"/>
/// (which returns Kong's validator message on failure). With <see cref="ThenErr"/> the error goes to "@entity".
/// </summary>
public sealed record ConditionalCheck(
    string IfField, Func<JsonNode?, bool> IfMatch, string ThenField, Func<JsonNode?, string?> ThenMatch) : EntityCheck
{
    public string? ThenErr { get; init; }
    public override IReadOnlyList<string> Sources => [IfField, ThenField];

    public override CheckFailure? Evaluate(JsonObject entity)
    {
        if (!IfMatch(entity[IfField])) return null;
        var error = ThenMatch(entity[ThenField]);
        if (error is null) return null;
        return ThenErr is null ? new CheckFailure(ThenField, error) : new CheckFailure(null, ThenErr);
    }

    /// <summary>The common "then field must be null" form.</summary>
    public static Func<JsonNode?, string?> MustBeNull => v => v is null ? null : "value must be null";
}

/// <summary><c>conditional_at_least_one_of</c>: when the condition holds, one of the listed fields must be set.</summary>
public sealed record ConditionalAtLeastOneOfCheck(
    string IfField, Func<JsonNode?, bool> IfMatch, IReadOnlyList<string> Fields, string ErrFormat) : EntityCheck
{
    public override IReadOnlyList<string> Sources => [IfField, .. Fields];

    public override CheckFailure? Evaluate(JsonObject entity) =>
        IfMatch(entity[IfField]) && !Fields.Any(f => IsSet(entity[f]))
            ? new CheckFailure(null, string.Format(System.Globalization.CultureInfo.InvariantCulture, ErrFormat, Quote(Fields)))
            : null;
}

/// <summary><c>custom_entity_check</c>: arbitrary code over the listed fields; errors go to "@entity".</summary>
public sealed record CustomEntityCheck(IReadOnlyList<string> FieldSources, Func<JsonObject, string?> Check) : EntityCheck
{
    public override IReadOnlyList<string> Sources => FieldSources;

    public override CheckFailure? Evaluate(JsonObject entity) =>
        Check(entity) is { } message ? new CheckFailure(null, message) : null;
}

/// <summary><c>mutually_required</c>: either all of the fields are set or none.</summary>
public sealed record MutuallyRequiredCheck(IReadOnlyList<string> Fields) : EntityCheck
{
    public override IReadOnlyList<string> Sources => Fields;

    public override CheckFailure? Evaluate(JsonObject entity)
    {
        var set = Fields.Count(f => IsSet(entity[f]));
        return set == 0 || set == Fields.Count ? null
            : new CheckFailure(null, $"all or none of these fields must be set: {Quote(Fields)}");
    }
}

/// <summary><c>only_one_of</c>: exactly one of the fields is set.</summary>
public sealed record OnlyOneOfCheck(IReadOnlyList<string> Fields) : EntityCheck
{
    public override IReadOnlyList<string> Sources => Fields;

    public override CheckFailure? Evaluate(JsonObject entity) =>
        Fields.Count(f => IsSet(entity[f])) == 1 ? null
            : new CheckFailure(null, $"exactly one of these fields must be non-empty: {Quote(Fields)}");
}
