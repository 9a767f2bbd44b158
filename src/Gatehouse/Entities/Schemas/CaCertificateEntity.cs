using System.Text.Json.Nodes;
using Gatehouse.Model;

namespace Gatehouse.Entities.Schemas;

/// <summary>Kong 3.9's <c>ca_certificates</c>: one PEM CA certificate (the CA basic constraint, not expired) and
/// <c>cert_digest</c>, the SHA-256 hex of its DER, computed on every write (Kong's on_write transformation) and unique.
/// Stored, validated and exported; not yet used to verify peers.</summary>
public static class CaCertificateEntity
{
    /// <param name="time">the clock the expiry check reads</param>
    public static EntitySchema Create(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        return new()
        {
            Name = "ca_certificates",
            SingularName = "ca_certificate",
            AdminApiNameOverride = "ca_certificates", // Kong's URL keeps the underscore
            EndpointKey = null,
            AddToConfig = (config, rows) => config with { CaCertificates = [.. rows.Select(ToModel)] },
            BeforeWrite = (entity, _) => WithDigest(entity),
            Fields =
            [
                Typedefs.Id(),
                Typedefs.AutoTimestamp("created_at"),
                Typedefs.AutoTimestamp("updated_at"),
                Typedefs.Certificate("cert") with { Required = true },
                new FieldDefinition("cert_digest", FieldType.String) { Unique = true },
                Typedefs.Tags(),
            ],
            Checks =
            [
                new CustomEntityCheck(["cert"], e => EntityJson.String(e, "cert") is { } cert ? PemValidation.ValidateCa(cert, time.GetUtcNow()) : null),
            ],
        };
    }

    public static EntitySchema Schema { get; } = Create(TimeProvider.System);

    public static CaCertificateModel ToModel(JsonObject e)
    {
        var r = new EntityReader(Schema, e);
        return new()
        {
            Id = r.Guid("id"),
            Cert = r.RequiredString("cert"),
            CertDigest = r.String("cert_digest"),
            Tags = r.Strings("tags"),
        };
    }

    private static JsonObject WithDigest(JsonObject entity)
    {
        if (EntityJson.String(entity, "cert") is { } cert && PemValidation.Sha256Digest(cert) is { } digest) entity["cert_digest"] = digest;
        return entity;
    }
}
