using System.Text.Json.Nodes;

namespace Gatehouse.Entities;

/// <summary>The outcome of validating an entity: either the normalized entity or the error tree.</summary>
public sealed record ValidationResult(JsonObject? Entity, JsonObject? Errors)
{
    public bool IsValid => Errors is null;
}

/// <summary>
/// Validates a whole entity against its schema: shorthand expansion, unknown fields, defaults, field
/// validators, then entity checks. All errors are accumulated (no short-circuit), like Kong.
/// The normalized entity carries every schema field, absent ones as JSON null, as the Admin API returns them.
/// </summary>
public static class EntityValidator
{
    public static ValidationResult Validate(EntitySchema schema, JsonObject input, ValidationContext context)
    {
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(input);
        var errors = new JsonObject();
        var data = ExpandShorthands(schema, input, errors);

        foreach (var (key, _) in data)
            if (schema.Field(key) is null && !errors.ContainsKey(key)) errors[key] = "unknown field";

        // the entity's members gathered first, so that its dictionary is made once at its size (growing it field by
        // field was a good part of what validating a large declarative file allocated); a default is read, never
        // attached: the normalized value is always a new node
        var members = new List<KeyValuePair<string, JsonNode?>>(schema.Fields.Count);
        foreach (var declared in schema.Fields)
        {
            var field = declared.ResolveFrom?.Invoke(data) ?? declared;
            var present = data.TryGetPropertyValue(field.Name, out var value);
            if (!present && field.Auto) { members.Add(new(field.Name, null)); continue; } // supplied by the store
            if (!present && context != ValidationContext.Update)
                value = field.DefaultFrom is { } dynamicDefault ? dynamicDefault(data) : field.Default;
            var error = FieldValidator.Validate(field, value, out var normalized);
            if (error is not null) errors[field.Name] = error;
            else members.Add(new(field.Name, normalized));
        }
        var entity = new JsonObject(members);

        // the skip conditions are looked at only when they can hold: most entities have no errors so far and no reference
        var mayHoldReference = FieldValidator.HoldsReference(schema.Fields, entity);
        foreach (var check in schema.Checks)
        {
            if ((errors.Count > 0 && check.Sources.Any(errors.ContainsKey))
                || (mayHoldReference && FieldValidator.ReadsReference(check, schema.Fields, entity))) continue;
            if (check.Evaluate(entity) is { } failure) FieldValidator.AddEntityError(errors, failure);
        }
        return errors.Count > 0 ? new ValidationResult(null, errors) : new ValidationResult(entity, null);
    }

    /// <summary>The input with its shorthands expanded; the input itself when it has none (it is only read).</summary>
    private static JsonObject ExpandShorthands(EntitySchema schema, JsonObject input, JsonObject errors)
    {
        var hasShorthand = false;
        foreach (var shorthand in schema.Shorthands) hasShorthand |= input.ContainsKey(shorthand.Name);
        if (!hasShorthand) return input;
        var data = new JsonObject();
        foreach (var (key, value) in input) data[key] = value?.DeepClone();
        foreach (var shorthand in schema.Shorthands)
        {
            if (!data.TryGetPropertyValue(shorthand.Name, out var value)) continue;
            data.Remove(shorthand.Name);
            if (value is null) continue;
            var probe = new FieldDefinition(shorthand.Name, shorthand.Type);
            if (FieldValidator.Validate(probe, value, out var normalized) is { } error) { errors[shorthand.Name] = error; continue; }
            foreach (var (key, expanded) in shorthand.Expand(normalized!)) data[key] = expanded?.DeepClone();
        }
        return data;
    }
}
