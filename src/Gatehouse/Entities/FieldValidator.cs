using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gatehouse.Entities;

/// <summary>
/// Validates and normalizes one value against a <see cref="FieldDefinition"/>, with Kong's messages.
/// Errors are JSON: a string for a scalar, an object/array mirroring the value for collections and records.
/// Order of checks follows Kong's <c>validators_order</c>: type, eq, one_of, uuid, between, lengths,
/// starts_with, match_none, match, match_any, custom.
/// </summary>
internal static class FieldValidator
{
    /// <summary>A foreign field's record: its required id.</summary>
    private static readonly FieldDefinition[] ForeignKeyFields = [Typedefs.Uuid("id") with { Required = true }];

    public static JsonNode? Validate(FieldDefinition field, JsonNode? value, out JsonNode? normalized)
    {
        normalized = null;
        if (value is null) return field.Required ? "required field missing" : null;
        if (field.MustBeNull) return field.Err ?? "value must be null";
        var typeError = CheckType(field, value, out normalized);
        if (typeError is not null) return typeError;
        if (IsReference(field, normalized)) return null; // Kong: a reference is checked when it is resolved
        return RunValidators(field, normalized!);
    }

    private static JsonNode? CheckType(FieldDefinition field, JsonNode value, out JsonNode? normalized)
    {
        normalized = null;
        switch (field.Type)
        {
            case FieldType.String:
                if (value is not JsonValue sv || sv.GetValueKind() != JsonValueKind.String) return "expected a string";
                var s = sv.GetValue<string>();
                if (Utf8Check.FirstInvalidPosition(s) is { } pos) return $"invalid utf-8 character sequence detected at position {pos}";
                normalized = JsonValue.Create(s);
                return null;
            case FieldType.Integer:
                if (!EntityJson.TryNumber(value, out var d)) return "expected an integer";
                if (d != Math.Floor(d) || double.IsInfinity(d) || Math.Abs(d) > 9.007199254740992e15) return "expected an integer";
                normalized = JsonValue.Create((long)d);
                return null;
            case FieldType.Number:
                if (!EntityJson.TryNumber(value, out var n)) return "expected a number";
                normalized = JsonValue.Create(n);
                return null;
            case FieldType.Boolean:
                if (value is not JsonValue bv || (bv.GetValueKind() != JsonValueKind.True && bv.GetValueKind() != JsonValueKind.False))
                    return "expected a boolean";
                normalized = JsonValue.Create(bv.GetValue<bool>());
                return null;
            case FieldType.Array or FieldType.Set:
                return CheckArray(field, value, out normalized);
            case FieldType.Map:
                return CheckMap(field, value, out normalized);
            case FieldType.Record:
                return CheckRecord(field.Fields, field.RecordChecks, value, out normalized);
            case FieldType.Foreign:
                return CheckRecord(ForeignKeyFields, [], value, out normalized);
            case FieldType.Json:
                normalized = value.DeepClone();
                return null;
            default:
                throw new InvalidOperationException($"unhandled field type {field.Type}");
        }
    }

    private static JsonNode? CheckArray(FieldDefinition field, JsonNode value, out JsonNode? normalized)
    {
        normalized = null;
        var isSet = field.Type == FieldType.Set;
        // Lua cannot tell {} from []: an empty object is accepted as an empty array.
        if (value is JsonObject { Count: 0 }) { normalized = new JsonArray(); return null; }
        if (value is not JsonArray array) return isSet ? "expected a set" : "expected an array";
        var result = new JsonArray();
        // one error per element, null for a valid one; made at the first failure (most arrays have none)
        List<JsonNode?>? errors = null;
        var seen = isSet ? new HashSet<string>(StringComparer.Ordinal) : null;
        for (var i = 0; i < array.Count; i++)
        {
            var element = array[i];
            JsonNode? norm = null;
            JsonNode? error = element is null ? "required field missing"
                : field.Elements is null ? null : Validate(field.Elements, element, out norm);
            if (field.Elements is null) norm = element?.DeepClone();
            if (error is not null && errors is null) errors = [.. Enumerable.Repeat<JsonNode?>(null, i)];
            errors?.Add(error);
            if (error is null && (seen is null || seen.Add(norm?.ToJsonString() ?? "null"))) result.Add(norm);
        }
        if (errors is not null)
        {
            while (errors.Count > 0 && errors[^1] is null) errors.RemoveAt(errors.Count - 1);
            return new JsonArray([.. errors]);
        }
        normalized = result;
        return null;
    }

    private static JsonNode? CheckMap(FieldDefinition field, JsonNode value, out JsonNode? normalized)
    {
        normalized = null;
        if (value is JsonArray { Count: 0 }) { normalized = new JsonObject(); return null; }
        if (value is not JsonObject map) return "expected a map";
        var result = new JsonObject();
        var errors = new JsonObject();
        foreach (var (key, v) in map)
        {
            JsonNode? error = field.Keys is null ? null : Validate(field.Keys, JsonValue.Create(key), out _);
            JsonNode? norm = null;
            if (error is null && field.Values is not null) error = Validate(field.Values with { Required = true }, v, out norm);
            else norm = v?.DeepClone();
            if (error is not null) errors[key] = error;
            else result[key] = norm;
        }
        if (errors.Count > 0) return errors;
        normalized = result;
        return null;
    }

    /// <summary>Validates a record's sub-fields: unknown keys, defaults, required, then its checks.</summary>
    internal static JsonNode? CheckRecord(IReadOnlyList<FieldDefinition> fields, IReadOnlyList<EntityCheck> checks,
        JsonNode value, out JsonNode? normalized)
    {
        normalized = null;
        if (value is JsonArray { Count: 0 }) value = new JsonObject();
        if (value is not JsonObject obj) return "expected a record";
        var errors = new JsonObject();
        var result = new JsonObject();
        foreach (var (key, _) in obj)
            if (!fields.Any(f => f.Name == key)) errors[key] = "unknown field";
        foreach (var f in fields)
        {
            var present = obj.TryGetPropertyValue(f.Name, out var v);
            if (!present && f.Default is not null) v = f.Default; // read, never attached (the normalized value is new)
            var error = Validate(f, v, out var norm);
            if (error is not null) errors[f.Name] = error;
            else result[f.Name] = norm;
        }
        if (errors.Count == 0)
            foreach (var check in checks)
                if (!ReadsReference(check, fields, result) && check.Evaluate(result) is { } failure)
                    AddEntityError(errors, failure);
        if (errors.Count > 0) return errors;
        normalized = result;
        return null;
    }

    /// <summary>A referenceable string field holding a vault reference.</summary>
    internal static bool IsReference(FieldDefinition field, JsonNode? value) =>
        field.Referenceable && value is JsonValue v && v.TryGetValue<string>(out var s) && Config.VaultReference.IsReference(s);

    /// <summary>Whether any referenceable field of <paramref name="entity"/> holds a vault reference.</summary>
    internal static bool HoldsReference(IReadOnlyList<FieldDefinition> fields, JsonObject entity)
    {
        for (var i = 0; i < fields.Count; i++)
            if (fields[i].Referenceable && entity.TryGetPropertyValue(fields[i].Name, out var value) && IsReference(fields[i], value)) return true;
        return false;
    }

    /// <summary>Kong skips an entity check when one of its fields holds a reference (the value is unknown until it is
    /// resolved); Gatehouse's own refusals (<see cref="NotSupportedCheck"/>) still apply.</summary>
    internal static bool ReadsReference(EntityCheck check, IReadOnlyList<FieldDefinition> fields, JsonObject entity)
    {
        if (check is NotSupportedCheck) return false;
        // runs for every check of every entity of a declarative file: look at the value first (almost never a
        // reference), and find the field only then
        var sources = check.Sources;
        for (var s = 0; s < sources.Count; s++)
        {
            var name = sources[s];
            if (!entity.TryGetPropertyValue(name, out var value) || value is not JsonValue v
                || !v.TryGetValue<string>(out var text) || !Config.VaultReference.IsReference(text)) continue;
            for (var i = 0; i < fields.Count; i++)
                if (fields[i].Name == name) { if (fields[i].Referenceable) return true; break; }
        }
        return false;
    }

    internal static void AddEntityError(JsonObject errors, CheckFailure failure)
    {
        if (failure.Field is not null) { errors[failure.Field] = failure.Message; return; }
        if (errors["@entity"] is not JsonArray list) errors["@entity"] = list = [];
        list.Add((JsonNode)failure.Message);
    }

    private static JsonNode? RunValidators(FieldDefinition field, JsonNode value)
    {
        var text = value is JsonValue jv && jv.GetValueKind() == JsonValueKind.String ? jv.GetValue<string>() : null;
        if (field.OneOf is { } oneOf && value is JsonValue)
        {
            var repr = text ?? value.ToJsonString();
            if (!oneOf.Contains(repr)) return field.Err ?? "expected one of: " + string.Join(", ", oneOf);
        }
        if (field.Ne is { } ne && JsonNode.DeepEquals(ne, value)) return field.Err ?? $"value must not be {Plain(ne)}";
        if (field.NotOneOf is { } notOneOf && value is JsonValue && notOneOf.Contains(text ?? value.ToJsonString()))
            return "must not be one of: " + string.Join(", ", notOneOf);
        if (field.Gt is { } gt && EntityJson.TryNumber(value, out var g) && g <= gt)
            return string.Create(CultureInfo.InvariantCulture, $"value must be greater than {gt}");
        if (field.Timestamp && (!EntityJson.TryNumber(value, out var ts) || ts < 0)) return "expected a valid timestamp";
        if (field.Uuid && text is not null && !IsUuid(text)) return "expected a valid UUID";
        if (field.Between is { } between && EntityJson.TryNumber(value, out var n))
        {
            if (n < between.Min || n > between.Max)
                return string.Create(CultureInfo.InvariantCulture, $"value should be between {between.Min} and {between.Max}");
        }
        var length = text is not null ? text.Length : value is JsonArray arr ? arr.Count : -1;
        if (length >= 0 && field.LenEq is { } eq && length != eq) return $"length must be {eq}";
        // As Kong's schema: a string field without len_min refuses the empty string (len_min defaults to 1).
        var lenMin = field.LenMin ?? (text is not null ? 1 : null);
        if (length >= 0 && lenMin is { } min && length < min) return $"length must be at least {min}";
        if (length >= 0 && field.LenMax is { } max && length > max) return $"length must be at most {max}";
        if (text is not null)
        {
            if (field.StartsWith is { } prefix && !text.StartsWith(prefix, StringComparison.Ordinal)) return $"should start with: {prefix}";
            foreach (var rule in field.MatchNone) if (rule.Pattern.IsMatch(text)) return rule.Error;
            if (field.Match is { } match && !match.Pattern.IsMatch(text)) return match.Error.Replace("%s", text, StringComparison.Ordinal);
            if (field.MatchAny.Count > 0 && !MatchesAny(field.MatchAny, text)) return field.MatchAny[0].Error;
        }
        return field.Custom?.Invoke(value);
    }

    /// <summary>A loop, not <c>Any</c> with a lambda: the closure over <paramref name="text"/> was allocated for every
    /// validated value.</summary>
    private static bool MatchesAny(IReadOnlyList<PatternRule> rules, string text)
    {
        for (var i = 0; i < rules.Count; i++) if (rules[i].Pattern.IsMatch(text)) return true;
        return false;
    }

    private static string Plain(JsonNode node) =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : node.ToJsonString();

    /// <summary>Kong accepts the canonical 8-4-4-4-12 hex form only.</summary>
    internal static bool IsUuid(string text) =>
        text.Length == 36 && Guid.TryParseExact(text, "D", out _);
}
