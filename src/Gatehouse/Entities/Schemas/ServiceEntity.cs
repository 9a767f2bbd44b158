using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Gatehouse.Model;

namespace Gatehouse.Entities.Schemas;

/// <summary>Kong 3.x <c>services</c>: the schema and its conversion to <see cref="ServiceModel"/>.</summary>
public static partial class ServiceEntity
{
    private static readonly string[] NoPathProtocols = ["tcp", "tls", "udp", "grpc", "grpcs"];
    private static readonly string[] TlsProtocols = ["https", "tls"];

    public static EntitySchema Schema { get; } = new()
    {
        Name = "services",
        SingularName = "service",
        AddToConfig = (config, rows) => config with { Services = [.. rows.Select(row => ToModel(row, config.EntityDocuments))] },
        Fields =
        [
            Typedefs.Id(),
            Typedefs.AutoTimestamp("created_at"),
            Typedefs.AutoTimestamp("updated_at"),
            Typedefs.Utf8Name(),
            new FieldDefinition("retries", FieldType.Integer) { Default = 5, Between = (0, 32767) },
            Typedefs.Protocol("protocol") with { Required = true, Default = "http", Custom = ValidateProtocol },
            Typedefs.Host("host") with { Required = true },
            Typedefs.Port("port") with { Required = true, Default = 80 },
            Typedefs.Path("path"),
            Typedefs.Timeout("connect_timeout", 60000),
            Typedefs.Timeout("write_timeout", 60000),
            Typedefs.Timeout("read_timeout", 60000),
            Typedefs.Tags(),
            Typedefs.Foreign("client_certificate", "certificates"),
            Typedefs.Bool("tls_verify", null),
            new FieldDefinition("tls_verify_depth", FieldType.Integer) { Between = (0, 64) },
            new FieldDefinition("ca_certificates", FieldType.Array) { Elements = Typedefs.Uuid("ca_certificate"), ElementsReference = "ca_certificates" },
            Typedefs.Bool("enabled", true, required: true),
        ],
        Checks =
        [
            new ConditionalCheck("protocol", p => OneOf(p, NoPathProtocols), "path", ConditionalCheck.MustBeNull),
            new ConditionalCheck("protocol", p => !OneOf(p, TlsProtocols), "client_certificate", ConditionalCheck.MustBeNull),
            new ConditionalCheck("protocol", p => !OneOf(p, TlsProtocols), "tls_verify", ConditionalCheck.MustBeNull),
            new ConditionalCheck("protocol", p => !OneOf(p, TlsProtocols), "tls_verify_depth", ConditionalCheck.MustBeNull),
            new ConditionalCheck("protocol", p => !OneOf(p, TlsProtocols), "ca_certificates", ConditionalCheck.MustBeNull),
        ],
        Shorthands = [new ShorthandField("url", FieldType.String, ExpandUrl)],
    };

    /// <summary>Defaults come from the schema (<see cref="EntityReader"/>).</summary>
    /// <param name="document">whether the model carries the service's Admin API JSON (<see cref="ServiceModel.Document"/>)</param>
    public static ServiceModel ToModel(JsonObject e, bool document = true)
    {
        var r = new EntityReader(Schema, e);
        return new()
        {
            Id = r.Guid("id"),
            Document = document ? EntityJson.Document(Schema, e) : default,
            Name = r.String("name"),
            Protocol = r.RequiredString("protocol"),
            Host = r.String("host") ?? "",
            Port = r.Int("port"),
            Path = r.String("path"),
            Retries = r.Int("retries"),
            ConnectTimeout = r.Int("connect_timeout"),
            WriteTimeout = r.Int("write_timeout"),
            ReadTimeout = r.Int("read_timeout"),
            Enabled = r.Bool("enabled"),
            TlsVerify = r.BoolOrNull("tls_verify"),
            TlsVerifyDepth = r.IntOrNull("tls_verify_depth"),
            CaCertificateIds = [.. r.Strings("ca_certificates").Select(id => System.Guid.TryParse(id, out var g) ? g : System.Guid.Empty)],
            ClientCertificateId = r.ForeignId("client_certificate"),
            Tags = r.Strings("tags"),
            CreatedAt = r.LongOrNull("created_at") ?? 0,
            UpdatedAt = r.LongOrNull("updated_at") ?? 0,
        };
    }

    /// <summary>Gatehouse proxies HTTP/1.1 and HTTP/2 (grpc, grpcs) only: a stream or ws/wss service would be stored
    /// and then proxied as something else, so it is refused (WebSocket upgrades pass through http/https services).</summary>
    private static string? ValidateProtocol(JsonNode value) => value.GetValue<string>() switch
    {
        "tcp" or "tls" or "udp" or "tls_passthrough" => "stream services are not supported by Gatehouse (it has no TCP/TLS/UDP proxy)",
        "ws" or "wss" => "ws and wss services are not supported by Gatehouse (WebSocket upgrade requests are proxied through http and https services)",
        _ => null,
    };

    private static bool OneOf(JsonNode? value, string[] set) =>
        value is JsonValue v && v.TryGetValue<string>(out var s) && set.Contains(s);

    [GeneratedRegex(@"^(?:(?<scheme>[A-Za-z][A-Za-z0-9+.\-]*):)?(?://(?<authority>[^/?#]*))?(?<path>[^?#]*)")]
    private static partial Regex UrlPattern();

    /// <summary>
    /// Splits a URL the way Kong's <c>url</c> shorthand does: scheme → protocol, host, port (or the scheme's
    /// default), path. Parts that are missing are omitted or null so validation reports them.
    /// </summary>
    internal static JsonObject ExpandUrl(JsonNode value)
    {
        var text = value.GetValue<string>();
        var m = UrlPattern().Match(text);
        var result = new JsonObject();
        var scheme = m.Groups["scheme"].Success ? m.Groups["scheme"].Value.ToLowerInvariant() : null;
        var authority = m.Groups["authority"].Success ? m.Groups["authority"].Value : "";
        var at = authority.LastIndexOf('@');
        if (at >= 0) authority = authority[(at + 1)..];
        string host = authority, port = "";
        var close = authority.LastIndexOf(']');
        var colon = authority.LastIndexOf(':');
        if (colon > close && authority.Count(c => c == ':') == 1 || (close >= 0 && colon > close))
        {
            host = authority[..colon];
            port = authority[(colon + 1)..];
        }
        result["host"] = host.Length > 0 ? host : null;
        long? number = long.TryParse(port, out var p) ? p : null;
        // As Kong: the scheme, else the protocol implied by port 80/443, else http; the port, else the protocol's.
        var protocol = scheme ?? (number == 443 ? "https" : "http");
        result["protocol"] = protocol;
        result["port"] = number is { } n ? JsonValue.Create(n)
            : port.Length > 0 ? JsonValue.Create(port) : JsonValue.Create(protocol == "https" ? 443L : 80L);
        var path = m.Groups["path"].Value;
        result["path"] = path.Length > 0 ? path : null;
        return result;
    }
}
