using System.Text.Json.Nodes;

namespace Gatehouse.Entities;

/// <summary>Kong's stable error codes (<c>kong/db/errors.lua</c>).</summary>
public enum DbErrorCode
{
    InvalidPrimaryKey = 1,
    SchemaViolation = 2,
    PrimaryKeyViolation = 3,
    ForeignKeyViolation = 4,
    UniqueViolation = 5,
    NotFound = 6,
    InvalidOffset = 7,
    DatabaseError = 8,
    InvalidSize = 9,
    InvalidUniqueKey = 10,
    InvalidOptions = 11,
    OperationUnsupported = 12,
    ForeignKeysUnresolved = 13,
    DeclarativeConfig = 14,
    ReferencedByOthers = 19,
}

/// <summary>
/// An error in Kong's shape (<c>code</c>, <c>name</c>, <c>message</c>, <c>fields</c>); the HTTP status comes
/// from one code→status map, like <c>ERRORS_HTTP_CODES</c>. Returned as a value, never thrown.
/// </summary>
public sealed record DbError(DbErrorCode Code, string Message, JsonNode? Fields = null)
{
    /// <summary>Extra top-level members (e.g. <c>flattened_errors</c>).</summary>
    public JsonObject? Extra { get; init; }

    public string Name => Code switch
    {
        DbErrorCode.InvalidPrimaryKey => "invalid primary key",
        DbErrorCode.SchemaViolation => "schema violation",
        DbErrorCode.PrimaryKeyViolation => "primary key violation",
        DbErrorCode.ForeignKeyViolation => "foreign key violation",
        DbErrorCode.UniqueViolation => "unique constraint violation",
        DbErrorCode.NotFound => "not found",
        DbErrorCode.InvalidOffset => "invalid offset",
        DbErrorCode.DatabaseError => "database error",
        DbErrorCode.InvalidSize => "invalid size",
        DbErrorCode.InvalidUniqueKey => "invalid unique key",
        DbErrorCode.InvalidOptions => "invalid options",
        DbErrorCode.OperationUnsupported => "operation unsupported",
        DbErrorCode.ForeignKeysUnresolved => "foreign keys unresolved",
        DbErrorCode.DeclarativeConfig => "invalid declarative configuration",
        DbErrorCode.ReferencedByOthers => "referenced by others",
        _ => "unknown",
    };

    public int HttpStatus => Code switch
    {
        DbErrorCode.UniqueViolation => 409,
        DbErrorCode.NotFound => 404,
        DbErrorCode.OperationUnsupported => 405,
        DbErrorCode.DatabaseError => 500,
        _ => 400,
    };

    public JsonObject ToJson()
    {
        var body = new JsonObject { ["code"] = (int)Code, ["name"] = Name, ["message"] = Message };
        if (Fields is not null) body["fields"] = Fields.DeepClone();
        if (Extra is not null) foreach (var (k, v) in Extra) body[k] = v?.DeepClone();
        return body;
    }

    public static DbError SchemaViolation(JsonObject fields) =>
        new(DbErrorCode.SchemaViolation, ErrorMessages.SchemaViolation(fields), fields);

    public static DbError UniqueViolation(string field, JsonNode? value) =>
        new(DbErrorCode.UniqueViolation, $"UNIQUE violation detected on '{{{field}={LuaPretty.Inline(value)}}}'",
            new JsonObject { [field] = value?.DeepClone() });

    public static DbError PrimaryKeyViolation(Guid id) =>
        new(DbErrorCode.PrimaryKeyViolation, $"primary key violation on key '{{id=\"{id}\"}}'", new JsonObject { ["id"] = id.ToString() });

    public static DbError ForeignKeyViolation(string field, Guid id, string referenced) =>
        new(DbErrorCode.ForeignKeyViolation,
            $"the foreign key '{{id=\"{id}\"}}' does not reference an existing '{referenced}' entity.",
            new JsonObject { [field] = new JsonObject { ["id"] = id.ToString() } });

    /// <summary>Kong's <c>foreign_keys_unresolved</c>: fields = {field: {unique_field: message}}.</summary>
    public static DbError ForeignKeysUnresolved(JsonObject fields)
    {
        var parts = fields.OrderBy(p => p.Key, StringComparer.Ordinal)
            .SelectMany(p => (p.Value as JsonObject ?? []).OrderBy(s => s.Key, StringComparer.Ordinal)
                .Select(s => $"{p.Key}.{s.Key}: {(string?)s.Value}"))
            .ToList();
        var message = parts.Count == 1 ? $"foreign key unresolved ({parts[0]})" : $"{parts.Count} foreign keys unresolved ({string.Join("; ", parts)})";
        return new(DbErrorCode.ForeignKeysUnresolved, message, fields);
    }

    public static DbError ReferencedBy(string referencing, string referenced) =>
        new(DbErrorCode.ForeignKeyViolation, $"an existing '{referencing}' entity references this '{referenced}' entity",
            new JsonObject { ["@referenced_by"] = referencing });

    /// <summary>Kong's <c>referenced_by_others</c>: a row another one names by id in an array (a service's
    /// ca_certificates) is not deleted.</summary>
    public static DbError ReferencedByOthers(string message) => new(DbErrorCode.ReferencedByOthers, message);

    public static DbError OperationUnsupported(string verb, string entity) =>
        new(DbErrorCode.OperationUnsupported, $"cannot {verb} '{entity}' entities when not using a database");
}
