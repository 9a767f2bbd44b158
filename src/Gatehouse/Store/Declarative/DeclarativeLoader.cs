using System.Text.Json.Nodes;
using Gatehouse.Entities;

namespace Gatehouse.Store.Declarative;

/// <summary>
/// Validates a declarative configuration (<c>_format_version: "3.0"</c>) with the same entity schemas as the
/// Admin API. Entities may be nested under their parent (routes under services) or listed at top level with
/// references by name or id. Ids missing from the file are derived deterministically (UUIDv5). Nothing is
/// stored here: the caller applies the result atomically or not at all.
/// Top-level keys besides the entities are Kong's: <c>_format_version</c> (1.1 and 2.1 files get Kong's route path
/// migration, <see cref="LegacyRoutePaths"/>), <c>_transform</c> (default true: credentials in the file are
/// plaintext and are transformed, e.g. basic-auth passwords hashed, as an Admin API write does; false: they are
/// stored as given, already transformed, which is what an export writes), <c>_comment</c> (a string) and
/// <c>_ignore</c> (an array of anything); both are ignored, as in Kong.
/// </summary>
public sealed class DeclarativeLoader
{
    private static readonly string[] FormatVersions = ["1.1", "2.1", "3.0"];
    private static readonly string[] MetaKeys = ["_format_version", "_transform", "_comment", "_ignore"];

    private readonly EntityRegistry _registry;
    private readonly TimeProvider _time;
    /// <summary>The child entities that may be nested in each schema's records, computed once instead of per record.</summary>
    private readonly Dictionary<EntitySchema, (EntitySchema Child, FieldDefinition Field)[]> _nestedChildren;

    public DeclarativeLoader(EntityRegistry registry, TimeProvider time)
    {
        _registry = registry ?? throw new ArgumentNullException(nameof(registry));
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _nestedChildren = new Dictionary<EntitySchema, (EntitySchema, FieldDefinition)[]>(ReferenceEqualityComparer.Instance);
        foreach (var schema in registry.Schemas) _nestedChildren[schema] = [.. registry.ReferencesTo(schema)];
    }

    /// <summary>A record still to load: element <paramref name="Index"/> of <paramref name="Items"/> (a list of the file).</summary>
    private sealed record Pending(JsonArray Items, int Index, DeclarativeErrorCollector.Slot Slot, FieldDefinition? ParentField, Guid ParentId, string Seed);

    /// <summary>Parses (YAML or JSON, strict UTF-8) then validates.</summary>
    public DeclarativeResult Load(ReadOnlySpan<byte> content) =>
        DeclarativeParser.TryParse(content, out var root, out var error) ? LoadOwned(root) : ParseFailure(error!);

    public DeclarativeResult Load(string content) =>
        DeclarativeParser.TryParse(content, out var root, out var error) ? LoadOwned(root) : ParseFailure(error!);

    /// <summary>A file that is not a configuration at all: Kong puts the reason in <c>fields.error</c>, and answers
    /// without <c>flattened_errors</c> (there is no entity to attach it to).</summary>
    public static DeclarativeResult ParseFailure(string error) => new(null, DeclarativeErrorCollector.Unparsable(
        "failed parsing declarative configuration: " + error));

    /// <summary>Validates <paramref name="root"/>, which stays as it was given (the load works on a copy).</summary>
    public DeclarativeResult Load(JsonNode? root) => LoadOwned(root?.DeepClone());

    /// <summary>Validates a tree that is this load's own: each record is checked and completed in place (its id, parent
    /// reference and timestamps set, its nested children taken out) instead of on a copy, as a copy per record was a good
    /// part of what a large file allocates.</summary>
    private DeclarativeResult LoadOwned(JsonNode? root)
    {
        if (root is not JsonObject config) return ParseFailure("expected an object");
        var errors = new DeclarativeErrorCollector();
        var transform = CheckTopLevel(config, errors);
        List<string> warnings = [];
        if (LegacyRoutePaths.Applies(EntityJson.String(config, "_format_version"))) warnings = LegacyRoutePaths.Migrate(config);

        var pending = _registry.Schemas.ToDictionary(s => s, _ => new List<Pending>());
        foreach (var schema in _registry.Schemas)
        {
            if (!config.TryGetPropertyValue(schema.Name, out var list) || list is null) continue;
            if (list is not JsonArray items) { errors.AddTopLevel(schema.Name, "expected an array"); continue; }
            for (var i = 0; i < items.Count; i++)
                pending[schema].Add(new Pending(items, i, errors.TopLevel(schema.Name, i), null, Guid.Empty, $"{i}"));
        }

        var accepted = _registry.Schemas.ToDictionary(s => s, s => new AcceptedRows(s));
        foreach (var schema in _registry.Schemas)
            foreach (var p in pending[schema])
                LoadItem(schema, p, pending, accepted, errors, transform);

        if (errors.HasErrors) return new DeclarativeResult(null, errors.ToError()) { Warnings = warnings };
        return new DeclarativeResult(accepted.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<JsonObject>)kv.Value.Rows), null) { Warnings = warnings };
    }

    /// <summary>Checks the keys that are not entities (Kong's messages); returns <c>_transform</c>.</summary>
    private bool CheckTopLevel(JsonObject config, DeclarativeErrorCollector errors)
    {
        foreach (var (key, _) in config)
            if (!MetaKeys.Contains(key) && _registry.ByName(key) is null) errors.AddTopLevel(key, "unknown field");
        if (config["_format_version"] is not JsonValue fv) errors.AddTopLevel("_format_version", "required field missing");
        else if (!fv.TryGetValue<string>(out var v) || !FormatVersions.Contains(v))
            errors.AddTopLevel("_format_version", "expected one of: " + string.Join(", ", FormatVersions));
        if (config["_comment"] is { } comment && !(comment is JsonValue cv && cv.TryGetValue<string>(out _)))
            errors.AddTopLevel("_comment", "expected a string");
        if (config["_ignore"] is { } ignore && ignore is not JsonArray) errors.AddTopLevel("_ignore", "expected an array");
        switch (config["_transform"])
        {
            case null: return true;
            case JsonValue tv when tv.TryGetValue<bool>(out var transform): return transform;
            default:
                errors.AddTopLevel("_transform", "expected a boolean");
                return true;
        }
    }

    private void LoadItem(EntitySchema schema, Pending p, Dictionary<EntitySchema, List<Pending>> pending,
        Dictionary<EntitySchema, AcceptedRows> accepted, DeclarativeErrorCollector errors, bool transform)
    {
        // taken out of the file's tree: once loaded (its row built, its errors copied), nothing refers to the record any
        // more, so the input of a large file becomes garbage as it is loaded instead of staying whole to the end
        var node = p.Items[p.Index];
        p.Items[p.Index] = null;
        if (node is not JsonObject item)
        {
            errors.AddEntityErrors(p.Slot, schema, new JsonObject(), new JsonObject { ["@entity"] = new JsonArray("expected a record") });
            return;
        }
        // the record is completed in place (the tree is this load's own); what it held before each value set below is
        // kept, so that an error report shows the record as given
        var replaced = new List<(string Key, bool Existed, JsonNode? Before)>(4);
        void Set(string key, JsonNode? value)
        {
            var existed = item.TryGetPropertyValue(key, out var before);
            replaced.Add((key, existed, before));
            item[key] = value; // detaches the value it replaces
        }
        var fieldErrors = new JsonObject();
        // Kong gives every entity record these two, typed as at top level, and ignores them
        if (item["_comment"] is { } comment && !(comment is JsonValue cv && cv.TryGetValue<string>(out _))) fieldErrors["_comment"] = "expected a string";
        if (item["_ignore"] is { } ignore && ignore is not JsonArray) fieldErrors["_ignore"] = "expected an array";
        item.Remove("_comment");
        item.Remove("_ignore");
        var id = ResolveId(schema, item, p);

        var nestedChildren = _nestedChildren[schema];
        foreach (var (child, field) in nestedChildren)
        {
            if (!item.TryGetPropertyValue(child.Name, out var nested)) continue;
            item.Remove(child.Name);
            if (nested is null) continue;
            if (nested is not JsonArray children) { fieldErrors[child.Name] = "expected an array"; continue; }
            for (var i = 0; i < children.Count; i++)
                pending[child].Add(new Pending(children, i, DeclarativeErrorCollector.Nested(p.Slot, child.Name, i), field, id, $"{id}:{i}"));
        }
        // the record as an error report shows it: the input without _comment, _ignore and nested children, with its
        // id (appended when derived), i.e. the record before its references and timestamps were set
        JsonObject Reported()
        {
            for (var i = replaced.Count - 1; i >= 0; i--)
            {
                var (key, existed, before) = replaced[i];
                if (existed) item[key] = before;
                else item.Remove(key);
            }
            return item;
        }
        ResolveForeignKeys(schema, item, p, accepted, fieldErrors, Set);

        var now = _time.GetUtcNow();
        if (item["created_at"] is null) Set("created_at", AutoTimestamp.For(schema, "created_at", now));
        if (item["updated_at"] is null) Set("updated_at", AutoTimestamp.For(schema, "updated_at", now));
        var result = EntityValidator.Validate(schema, item, ValidationContext.Insert);
        var allErrors = result.Errors ?? new JsonObject();
        foreach (var (k, v) in fieldErrors) allErrors[k] = v?.DeepClone();
        if (allErrors.Count > 0) { errors.AddEntityErrors(p.Slot, schema, Reported(), allErrors); return; }
        var entity = result.Entity!;
        if (accepted[schema].Duplicate(entity) is { } duplicate) { errors.AddDuplicate(p.Slot, schema, Reported(), duplicate); return; }
        // _transform: what an Admin API write does to the input (basic-auth: the password hashed with the consumer id)
        accepted[schema].Add(transform && schema.BeforeWrite is { } write ? write(entity, item) : entity);
    }

    private static Guid ResolveId(EntitySchema schema, JsonObject item, Pending p)
    {
        if (item["id"] is JsonValue v && v.TryGetValue<string>(out var s))
            return Guid.TryParse(s, out var given) ? given : Guid.Empty; // the validator reports a bad id
        if (item["id"] is not null) return Guid.Empty;
        var seed = schema.EndpointKeyValue(item) ?? p.Seed;
        var id = Uuid5.Create(Uuid5.EntitiesNamespace, $"{schema.Name}:{seed}");
        item["id"] = id.ToString();
        return id;
    }

    private void ResolveForeignKeys(EntitySchema schema, JsonObject item, Pending p,
        Dictionary<EntitySchema, AcceptedRows> accepted, JsonObject fieldErrors, Action<string, JsonNode?> set)
    {
        foreach (var field in schema.ForeignFields)
        {
            if (p.ParentField == field)
            {
                if (item[field.Name] is not null) fieldErrors[field.Name] = "value must be null";
                else set(field.Name, new JsonObject { ["id"] = p.ParentId.ToString() });
                continue;
            }
            if (item[field.Name] is not { } reference || _registry.ByName(field.Reference!) is not { } target) continue;
            var key = reference switch
            {
                JsonValue v when v.TryGetValue<string>(out var s) => s,
                JsonObject o when o["id"] is JsonValue iv && iv.TryGetValue<string>(out var s) => s,
                _ => null,
            };
            if (key is null) continue; // the validator reports the type error
            var found = accepted[target].FindId(key);
            if (found is null) fieldErrors[field.Name] = $"invalid reference '{field.Name}: {key}' (no such entry in '{target.Name}')";
            else set(field.Name, new JsonObject { ["id"] = found });
        }
    }

    /// <summary>
    /// The rows accepted so far for one schema, indexed so that each reference and uniqueness check is a hash
    /// lookup: scanning the list per entity made a 10,000-service file quadratic (seconds per megabyte, growing). The
    /// rows are kept as their JSON text (<see cref="JsonTextRows"/>), not as trees: what a large file's validated rows
    /// hold until they are published.
    /// </summary>
    private sealed class AcceptedRows(EntitySchema schema)
    {
        private readonly Dictionary<string, int> _byId = new(StringComparer.OrdinalIgnoreCase);
        private readonly Dictionary<string, int> _byEndpointKey = new(StringComparer.Ordinal);
        private readonly HashSet<string> _ids = new(StringComparer.Ordinal);
        private readonly Dictionary<string, HashSet<string>> _unique = schema.UniqueFields.ToDictionary(f => f.Name, _ => new HashSet<string>(StringComparer.Ordinal));
        private readonly Dictionary<string, int> _cacheKeys = new(StringComparer.Ordinal);

        public JsonTextRows Rows { get; } = new();

        /// <summary>Every validated row has its id (given, derived or generated by the validator).</summary>
        public void Add(JsonObject entity)
        {
            var index = Rows.Count;
            Rows.Add(entity);
            var id = Rows.IdAt(index);
            _ids.Add(id);
            _byId.TryAdd(id, index);
            if (schema.EndpointKeyValue(entity) is { } key) _byEndpointKey.TryAdd(key, index);
            foreach (var (field, values) in _unique)
                if (EntityJson.String(entity, field) is { } value) values.Add(value);
            if (CacheKey(entity) is { } cacheKey) _cacheKeys.TryAdd(cacheKey, index);
        }

        /// <summary>The id of the first row whose id (any case) or endpoint key (e.g. name) is <paramref name="key"/>.</summary>
        public string? FindId(string key)
        {
            var byId = _byId.TryGetValue(key, out var i) ? i : int.MaxValue;
            var byKey = _byEndpointKey.TryGetValue(key, out var k) ? k : int.MaxValue;
            var first = Math.Min(byId, byKey);
            return first == int.MaxValue ? null : Rows.IdAt(first);
        }

        public string? Duplicate(JsonObject entity)
        {
            foreach (var field in schema.UniqueFields)
                if (EntityJson.String(entity, field.Name) is { } value && _unique[field.Name].Contains(value))
                    return $"uniqueness violation: '{schema.Name}' entity with {field.Name} set to '{value}' already declared";
            if (CacheKey(entity) is { } key && _cacheKeys.TryGetValue(key, out var other) && CacheKeyConstraint.SameKey(schema, Rows[other], entity))
                return $"uniqueness violation: '{schema.Name}' entity with cache_key set to '{CacheKeyConstraint.KeyText(schema, entity)}' already declared";
            var id = EntityJson.String(entity, "id");
            return id is not null && _ids.Contains(id)
                ? $"uniqueness violation: '{schema.Name}' entity with primary key set to '{id}' already declared"
                : null;
        }

        /// <summary>An exact hash key for <see cref="CacheKeyConstraint.SameKey"/>: each field's JSON text (foreign
        /// fields by id), separated by a control character that JSON text never contains unescaped.</summary>
        private string? CacheKey(JsonObject entity) => schema.CacheKey.Count == 0 ? null : string.Join('\u0001', schema.CacheKey.Select(f =>
            schema.Field(f)?.Type == FieldType.Foreign ? EntityJson.ForeignId(entity, f)?.ToString() ?? "null" : entity[f]?.ToJsonString() ?? "null"));
    }
}
