using System.Text.Json.Nodes;
using Gatehouse.Model;

namespace Gatehouse.Entities.Schemas;

/// <summary>Kong 3.x <c>routes</c> (traditional_compatible router): the schema and its conversion to <see cref="RouteModel"/>.</summary>
public static class RouteEntity
{
    public static EntitySchema Schema { get; } = new()
    {
        Name = "routes",
        SingularName = "route",
        AddToConfig = (config, rows) => config with { Routes = [.. rows.Select(row => ToModel(row, config.EntityDocuments))] },
        Fields =
        [
            Typedefs.Id(),
            Typedefs.AutoTimestamp("created_at"),
            Typedefs.AutoTimestamp("updated_at"),
            Typedefs.Utf8Name(),
            new FieldDefinition("protocols", FieldType.Set)
            {
                Required = true, LenMin = 1, Default = new JsonArray("http", "https"),
                Elements = Typedefs.Protocol("protocol"),
                Custom = RouteProtocolRules.ValidateProtocols,
            },
            new FieldDefinition("methods", FieldType.Set)
            {
                Elements = new FieldDefinition("method", FieldType.String) { Match = PatternRule.Of("^[A-Z]+$", "invalid value: %s") },
            },
            new FieldDefinition("hosts", FieldType.Array)
            {
                Elements = new FieldDefinition("host", FieldType.String)
                {
                    Custom = v => HostValidation.ValidateWildcardHost(v.GetValue<string>(), allowPort: true),
                },
            },
            new FieldDefinition("paths", FieldType.Array)
            {
                Elements = new FieldDefinition("path", FieldType.String)
                {
                    MatchAny = [PatternRule.Of("^/", "should start with: / (fixed path) or ~/ (regex path)"), PatternRule.Of("^~/", "")],
                    MatchNone = [PatternRule.Of("//", "must not have empty segments")],
                    Custom = v => PathValidation.ValidateRouterPath(v.GetValue<string>()),
                },
            },
            new FieldDefinition("headers", FieldType.Map)
            {
                Keys = new FieldDefinition("header", FieldType.String)
                {
                    Match = PatternRule.Of("^[A-Za-z0-9_-]+$", "bad header name '%s', allowed characters are A-Z, a-z, 0-9, '_', and '-'"),
                    MatchNone = [PatternRule.Of("^[Hh][Oo][Ss][Tt]$", "cannot contain 'host' header, which must be specified in the 'hosts' attribute")],
                },
                Values = new FieldDefinition("values", FieldType.Array) { Elements = new FieldDefinition("value", FieldType.String) },
            },
            new FieldDefinition("snis", FieldType.Set)
            {
                Elements = new FieldDefinition("sni", FieldType.String) { Custom = v => HostValidation.ValidateSni(v.GetValue<string>()) },
            },
            Endpoints("sources"),
            Endpoints("destinations"),
            Typedefs.Bool("strip_path", true, required: true) with { DefaultFrom = RouteProtocolRules.StripPathDefault },
            Typedefs.Bool("preserve_host", false, required: true),
            new FieldDefinition("regex_priority", FieldType.Integer) { Default = 0 },
            new FieldDefinition("path_handling", FieldType.String) { Default = "v0", OneOf = ["v0", "v1"] },
            new FieldDefinition("https_redirect_status_code", FieldType.Integer)
            {
                Required = true, Default = 426, OneOf = ["426", "301", "302", "307", "308"],
            },
            Typedefs.Bool("request_buffering", true, required: true),
            Typedefs.Bool("response_buffering", true, required: true),
            Typedefs.Tags(),
            Typedefs.Foreign("service", "services"),
        ],
        Checks = RouteProtocolRules.Checks,
    };

    /// <summary>The schema's default <c>protocols</c> as one list, shared by every route that has them (nearly all: a
    /// list per route was 4 MB of a 100,000-route configuration).</summary>
    private static readonly IReadOnlyList<string> DefaultProtocols = new EntityReader(Schema, new JsonObject()).Strings("protocols");

    /// <summary>Defaults come from the schema (<see cref="EntityReader"/>).</summary>
    /// <param name="document">whether the model carries the route's Admin API JSON (<see cref="RouteModel.Document"/>)</param>
    public static RouteModel ToModel(JsonObject e, bool document = true)
    {
        var r = new EntityReader(Schema, e);
        return new()
        {
            Id = r.Guid("id"),
            Document = document ? EntityJson.Document(Schema, e) : default,
            Name = r.String("name"),
            Protocols = r.Strings("protocols", DefaultProtocols),
            Methods = r.Strings("methods"),
            Hosts = r.Strings("hosts"),
            Paths = r.Strings("paths"),
            Headers = e["headers"] is JsonObject h
                ? h.ToDictionary(p => p.Key.ToLowerInvariant(), p => EntityJson.StringsOf(p.Value as JsonArray))
                : RouteModel.NoHeaders,
            Snis = r.Strings("snis"),
            StripPath = r.Bool("strip_path"),
            PreserveHost = r.Bool("preserve_host"),
            RegexPriority = r.Int("regex_priority"),
            PathHandling = r.RequiredString("path_handling"),
            HttpsRedirectStatusCode = r.Int("https_redirect_status_code"),
            RequestBuffering = r.Bool("request_buffering"),
            ResponseBuffering = r.Bool("response_buffering"),
            ServiceId = r.ForeignId("service"),
            Tags = r.Strings("tags"),
            CreatedAt = r.LongOrNull("created_at") ?? 0,
            UpdatedAt = r.LongOrNull("updated_at") ?? 0,
        };
    }

    /// <summary>Kong's sources/destinations: a set of {ip, port} records, at least one of the two set.</summary>
    private static FieldDefinition Endpoints(string name) => new(name, FieldType.Set)
    {
        Elements = new FieldDefinition(name, FieldType.Record)
        {
            Fields =
            [
                new FieldDefinition("ip", FieldType.String) { Custom = v => HostValidation.ValidateIpOrCidr(v.GetValue<string>()) },
                Typedefs.Port("port"),
            ],
            RecordChecks = [new AtLeastOneOfCheck(["ip", "port"])],
        },
    };
}
