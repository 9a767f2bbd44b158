using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gatehouse.Entities;

/// <summary>
/// A Kong field Gatehouse does not implement: unset (null, empty, or <c>false</c>) passes, a value is refused on the
/// field with the reason, so it is never accepted and ignored. Listed after Kong's own checks, which report first
/// (e.g. <c>tls_verify</c> on an http service is Kong's "value must be null").
/// </summary>
public sealed record NotSupportedCheck(string Field, string Reason) : EntityCheck
{
    public override IReadOnlyList<string> Sources => [Field];

    public override CheckFailure? Evaluate(JsonObject entity) =>
        IsSet(entity[Field]) && !(entity[Field] is JsonValue v && v.GetValueKind() == JsonValueKind.False)
            ? new CheckFailure(Field, "not supported by Gatehouse: " + Reason)
            : null;
}
