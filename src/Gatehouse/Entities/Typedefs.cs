using System.Text.Json.Nodes;

namespace Gatehouse.Entities;

/// <summary>
/// Shared field types with their bounds and messages (Kong's <c>typedefs.lua</c>), so every entity that
/// has a port, host, path, name or tags validates them identically.
/// </summary>
public static class Typedefs
{
    public static readonly IReadOnlyList<string> AllProtocols =
        ["grpc", "grpcs", "http", "https", "tcp", "tls", "tls_passthrough", "udp", "ws", "wss"];

    public static FieldDefinition Uuid(string name) => new(name, FieldType.String) { Uuid = true };

    /// <summary>The primary key: generated when absent.</summary>
    public static FieldDefinition Id() => Uuid("id") with { Auto = true, Required = true };

    /// <summary>Unix seconds, set by the store on insert/update.</summary>
    public static FieldDefinition AutoTimestamp(string name) => new(name, FieldType.Integer) { Auto = true, Timestamp = true };

    /// <summary>Unix seconds with milliseconds (Kong's <c>auto_timestamp_ms</c>, e.g. targets), set by the store.</summary>
    public static FieldDefinition AutoTimestampMs(string name) => new(name, FieldType.Number) { Auto = true, Timestamp = true };

    public static FieldDefinition Utf8Name(string name = "name") => new(name, FieldType.String)
    {
        Unique = true,
        Custom = v => HostValidation.ValidateUtf8Name(v.GetValue<string>()),
    };

    public static FieldDefinition Tags() => new("tags", FieldType.Set)
    {
        Elements = new FieldDefinition("tag", FieldType.String) { Custom = v => HostValidation.ValidateTag(v.GetValue<string>()) },
    };

    public static FieldDefinition Port(string name) => new(name, FieldType.Integer) { Between = (0, 65535) };

    public static FieldDefinition Protocol(string name) => new(name, FieldType.String) { OneOf = AllProtocols };

    /// <summary>Kong's <c>nonzero_timeout</c>: milliseconds, 1 .. 2^31-2.</summary>
    public static FieldDefinition Timeout(string name, long @default) => new(name, FieldType.Integer)
    {
        Between = (1, int.MaxValue - 1),
        Default = @default,
    };

    public static FieldDefinition Host(string name) => new(name, FieldType.String)
    {
        Custom = v => HostValidation.ValidateHost(v.GetValue<string>(), allowPort: false),
    };

    /// <summary>An upstream path: starts with '/', no empty segments, valid percent-encoding.</summary>
    public static FieldDefinition Path(string name) => new(name, FieldType.String)
    {
        StartsWith = "/",
        MatchNone = [PatternRule.Of("//", "must not have empty segments")],
        Custom = v => PathValidation.ValidatePath(v.GetValue<string>()),
    };

    /// <summary>Kong's <c>wildcard_host</c> (route and certificate SNIs): a hostname, one '*' leftmost or rightmost.</summary>
    public static FieldDefinition WildcardHost(string name) => new(name, FieldType.String)
    {
        Custom = v => HostValidation.ValidateSni(v.GetValue<string>()),
    };

    /// <summary>Kong's <c>typedefs.certificate</c>: a PEM X.509 certificate that parses.</summary>
    public static FieldDefinition Certificate(string name) => new(name, FieldType.String)
    {
        Custom = v => PemValidation.ValidateCertificate(v.GetValue<string>()),
    };

    /// <summary>Kong's <c>typedefs.key</c>: a PEM private key that parses.</summary>
    public static FieldDefinition Key(string name) => new(name, FieldType.String)
    {
        Custom = v => PemValidation.ValidateKey(v.GetValue<string>()),
    };

    public static FieldDefinition Foreign(string name, string reference, OnDelete onDelete = OnDelete.Restrict) =>
        new(name, FieldType.Foreign) { Reference = reference, OnDelete = onDelete };

    public static FieldDefinition Bool(string name, bool? @default, bool required = false) =>
        new(name, FieldType.Boolean) { Default = @default is { } d ? JsonValue.Create(d) : null, Required = required };
}
