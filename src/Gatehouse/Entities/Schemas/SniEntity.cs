using System.Text.Json.Nodes;
using Gatehouse.Model;

namespace Gatehouse.Entities.Schemas;

/// <summary>Kong 3.9's <c>snis</c>: a server name (exact, or a wildcard as the leftmost or rightmost character) unique
/// across all certificates, naming the certificate to present; found by name at <c>/snis/{name}</c>, nested at
/// <c>/certificates/{c}/snis</c>, deleted with its certificate.</summary>
public static class SniEntity
{
    public static EntitySchema Schema { get; } = new()
    {
        Name = "snis",
        SingularName = "sni",
        AddToConfig = (config, rows) => config with { Snis = [.. rows.Select(ToModel)] },
        Fields =
        [
            Typedefs.Id(),
            Typedefs.WildcardHost("name") with { Required = true, Unique = true },
            Typedefs.AutoTimestamp("created_at"),
            Typedefs.AutoTimestamp("updated_at"),
            Typedefs.Tags(),
            Typedefs.Foreign("certificate", "certificates", OnDelete.Cascade) with
            {
                Required = true, Description = "The id (a UUID) of the certificate with which to associate the SNI hostname.",
            },
        ],
    };

    public static SniModel ToModel(JsonObject e)
    {
        var r = new EntityReader(Schema, e);
        return new()
        {
            Id = r.Guid("id"),
            Name = r.RequiredString("name"),
            CertificateId = r.ForeignId("certificate") ?? Guid.Empty,
            Tags = r.Strings("tags"),
        };
    }
}
