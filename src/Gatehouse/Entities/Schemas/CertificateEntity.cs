using System.Text.Json.Nodes;
using Gatehouse.Model;

namespace Gatehouse.Entities.Schemas;

/// <summary>Kong 3.9's <c>certificates</c>: a PEM certificate and its private key, optionally an alternative pair of the
/// other key type, checked to match as Kong does. <c>snis</c> is Kong's transient list: the DAO writes it as
/// <c>snis</c> rows and returns the certificate's SNI names (<see cref="EntitySchema.ChildNames"/>). Stored, validated
/// and exported; presented by proxy TLS handshakes (Hosting/SniCertificates; the alternative pair to clients that
/// can verify its key type).</summary>
public static class CertificateEntity
{
    public static EntitySchema Schema { get; } = new()
    {
        Name = "certificates",
        SingularName = "certificate",
        EndpointKey = null, // Kong's certificates have no endpoint key
        ChildNames = new ChildNameList("snis", "snis", "name", "certificate"),
        AddToConfig = (config, rows) => config with { Certificates = [.. rows.Select(ToModel)] },
        Fields =
        [
            Typedefs.Id(),
            Typedefs.AutoTimestamp("created_at"),
            Typedefs.AutoTimestamp("updated_at"),
            Typedefs.Certificate("cert") with { Required = true, Referenceable = true, Description = "PEM-encoded public certificate chain of the SSL key pair." },
            Typedefs.Key("key") with { Required = true, Referenceable = true, Description = "PEM-encoded private key of the SSL key pair." },
            Typedefs.Certificate("cert_alt") with { Referenceable = true, Description = "PEM-encoded public certificate chain of the alternate SSL key pair." },
            Typedefs.Key("key_alt") with { Referenceable = true, Description = "PEM-encoded private key of the alternate SSL key pair." },
            Typedefs.Tags(),
            new FieldDefinition("snis", FieldType.Array) { Elements = Typedefs.WildcardHost("sni") },
        ],
        Checks =
        [
            new MutuallyRequiredCheck(["cert_alt", "key_alt"]),
            new CustomEntityCheck(["cert", "key"], e =>
                Pair(e, "cert", "key") is var (c, k) && !PemValidation.Matches(c, k) ? "certificate does not match key" : null),
            new CustomEntityCheck(["cert_alt", "key_alt"], e =>
                Pair(e, "cert_alt", "key_alt") is var (c, k) && !PemValidation.Matches(c, k) ? "alternative certificate does not match key" : null),
            new CustomEntityCheck(["cert", "cert_alt"], e =>
                Pair(e, "cert", "cert_alt") is var (c, a) && PemValidation.KeyType(c) is { } t && t == PemValidation.KeyType(a)
                    ? "certificate and alternative certificate need to have different type (e.g. RSA and ECDSA), "
                      + "the provided certificates were both of the same type"
                    : null),
        ],
    };

    public static CertificateModel ToModel(JsonObject e)
    {
        var r = new EntityReader(Schema, e);
        return new()
        {
            Id = r.Guid("id"),
            Cert = r.RequiredString("cert"),
            Key = r.RequiredString("key"),
            CertAlt = r.String("cert_alt"),
            KeyAlt = r.String("key_alt"),
            Tags = r.Strings("tags"),
        };
    }

    private static (string, string)? Pair(JsonObject e, string a, string b) =>
        EntityJson.String(e, a) is { } x && EntityJson.String(e, b) is { } y ? (x, y) : null;
}
