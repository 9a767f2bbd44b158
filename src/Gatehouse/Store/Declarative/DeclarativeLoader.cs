using System.Text.Json;
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

    /// <summary>A record still to load: an element of a list of the file (its compact form, <see cref="ParsedFile"/>).</summary>
    private sealed record Pending(JsonElement Item, DeclarativeErrorCollector.Slot Slot, FieldDefinition? ParentField, Guid ParentId, string Seed);

    /// <summary>A file read and checked at the top level: its records as one immutable JSON value (UTF-8 text and an
    /// index of it, no object per node), the top-level errors so far and what the top-level keys say.</summary>
    private sealed record ParsedFile(JsonElement Root, DeclarativeErrorCollector Errors, bool Transform, List<string> Warnings);

    /// <summary>Parses (YAML or JSON, strict UTF-8) then validates. <paramref name="parsed"/>, when given, runs between
    /// the two, once the file's tree has been let go of (a caller loading a large file collects there).</summary>
    public DeclarativeResult Load(ReadOnlySpan<byte> content, Action? parsed = null)
    {
        var file = Parse(content, out var failure);
        if (file is null) return failure!;
        parsed?.Invoke();
        return Validate(file);
    }

    public DeclarativeResult Load(string content) =>
        DeclarativeParser.TryParse(content, out var root, out var error) ? LoadOwned(root) : ParseFailure(error!);

    /// <summary>A file that is not a configuration at all: Kong puts the reason in <c>fields.error</c>, and answers
    /// without <c>flattened_errors</c> (there is no entity to attach it to).</summary>
    public static DeclarativeResult ParseFailure(string error) => new(null, DeclarativeErrorCollector.Unparsable(
        "failed parsing declarative configuration: " + error));

    /// <summary>Validates <paramref name="root"/>, which stays as it was given.</summary>
    public DeclarativeResult Load(JsonNode? root) => LoadOwned(root?.DeepClone());

    /// <summary>Validates a tree that is this load's own (<see cref="Prepare"/> may change it).</summary>
    private DeclarativeResult LoadOwned(JsonNode? root)
    {
        var file = Prepare(root, out var failure);
        return file is null ? failure! : Validate(file);
    }

    /// <summary>The tree is built and let go of in here: the caller's frame never holds it.</summary>
    private ParsedFile? Parse(ReadOnlySpan<byte> content, out DeclarativeResult? failure)
    {
        if (DeclarativeParser.TryParse(content, out var root, out var error)) return Prepare(root, out failure);
        failure = ParseFailure(error!);
        return null;
    }

    /// <summary>Checks the top level of a tree that is this load's own (a 1.1/2.1 file's route paths are migrated in
    /// it) and turns it into its compact form. Each record is then made a tree of its own as it is loaded, and dies
    /// young: a large file's tree, whole in the old generation of the heap until the last record was loaded (with all
    /// that each record's load hung on it), was most of what a load held at its peak.</summary>
    private ParsedFile? Prepare(JsonNode? root, out DeclarativeResult? failure)
    {
        failure = null;
        if (root is not JsonObject config)
        {
            failure = ParseFailure("expected an object");
            return null;
        }
        var errors = new DeclarativeErrorCollector();
        var transform = CheckTopLevel(config, errors);
        List<string> warnings = [];
        if (LegacyRoutePaths.Applies(EntityJson.String(config, "_format_version"))) warnings = LegacyRoutePaths.Migrate(config);
        if (!CompactJson.TryFrom(config, out var compact, out var error))
        {
            failure = ParseFailure(error!);
            return null;
        }
        return new ParsedFile(compact, errors, transform, warnings);
    }

    private DeclarativeResult Validate(ParsedFile file)
    {
        var errors = file.Errors;
        var pending = _registry.Schemas.ToDictionary(s => s, _ => new List<Pending>());
        foreach (var schema in _registry.Schemas)
        {
            if (!file.Root.TryGetProperty(schema.Name, out var list) || list.ValueKind == JsonValueKind.Null) continue;
            if (list.ValueKind != JsonValueKind.Array) { errors.AddTopLevel(schema.Name, "expected an array"); continue; }
            var i = 0;
            foreach (var item in list.EnumerateArray())
            {
                pending[schema].Add(new Pending(item, errors.TopLevel(schema.Name, i), null, Guid.Empty, $"{i}"));
                i++;
            }
        }

        var accepted = _registry.Schemas.ToDictionary(s => s, s => new AcceptedRows(s));
        foreach (var schema in _registry.Schemas)
            foreach (var p in pending[schema])
                LoadItem(schema, p, pending, accepted, errors, file.Transform);

        if (errors.HasErrors) return new DeclarativeResult(null, errors.ToError()) { Warnings = file.Warnings };
        return new DeclarativeResult(accepted.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<JsonObject>)kv.Value.Rows), null) { Warnings = file.Warnings };
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
        if (p.Item.ValueKind != JsonValueKind.Object)
        {
            errors.AddEntityErrors(p.Slot, schema, new JsonObject(), new JsonObject { ["@entity"] = new JsonArray("expected a record") });
            return;
        }
        var nestedChildren = _nestedChildren[schema];
        // the record as a tree of its own, without its nested children (each is made a tree when its turn comes)
        var item = new JsonObject();
        foreach (var member in p.Item.EnumerateObject())
            if (!IsNestedChild(nestedChildren, member.Name)) item[member.Name] = DeclarativeParser.ToNode(member.Value);
        // the record is completed in place; what it held before each value set below is kept, so that an error report
        // shows the record as given
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

        foreach (var (child, field) in nestedChildren)
        {
            if (!p.Item.TryGetProperty(child.Name, out var nested) || nested.ValueKind == JsonValueKind.Null) continue;
            if (nested.ValueKind != JsonValueKind.Array) { fieldErrors[child.Name] = "expected an array"; continue; }
            var i = 0;
            foreach (var element in nested.EnumerateArray())
            {
                pending[child].Add(new Pending(element, DeclarativeErrorCollector.Nested(p.Slot, child.Name, i), field, id, $"{id}:{i}"));
                i++;
            }
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

    private static bool IsNestedChild((EntitySchema Child, FieldDefinition Field)[] nestedChildren, string name)
    {
        foreach (var (child, _) in nestedChildren)
            if (child.Name == name) return true;
        return false;
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
