using System.Text.Json.Nodes;
using Gatehouse.Model;

namespace Gatehouse.Entities.Schemas;

/// <summary>Kong 3.9's <c>keys</c>: one key as a JWK (a JSON string) or PEM (<c>{private_key, public_key}</c>), never
/// both, validated by loading it (<see cref="KeyMaterial"/>); <c>kid</c> unique within its optional set (Kong's
/// cache key), <c>name</c> unique. Returned as stored. No bundled Gatehouse plugin reads keys (docs/tls.md).</summary>
public static class KeyEntity
{
    private static readonly string[] Formats = ["jwk", "pem"]; // Kong's constants.KEY_FORMATS

    public static EntitySchema Schema { get; } = new()
    {
        Name = "keys",
        SingularName = "key",
        EndpointKey = "name",
        CacheKey = ["kid", "set"],
        AddToConfig = (config, rows) => config with { Keys = [.. rows.Select(ToModel)] },
        Fields =
        [
            Typedefs.Id(),
            Typedefs.Foreign("set", "key_sets", OnDelete.Cascade) with { Description = "The id of the Key Set with which to associate the key." },
            new FieldDefinition("name", FieldType.String) { Unique = true, Description = "The name to associate with the given keys." },
            new FieldDefinition("kid", FieldType.String) { Required = true, Description = "A unique identifier for a key." },
            // a JWK string, validated by the entity check below (a vault reference is checked when resolved, as Kong)
            new FieldDefinition("jwk", FieldType.String) { Referenceable = true, Description = "A JSON Web Key represented as a string." },
            new FieldDefinition("pem", FieldType.Record)
            {
                Fields =
                [
                    new FieldDefinition("private_key", FieldType.String) { Referenceable = true },
                    new FieldDefinition("public_key", FieldType.String) { Referenceable = true },
                ],
                RecordChecks = [new AtLeastOneOfCheck(["private_key", "public_key"])],
                Custom = KeyMaterial.ValidatePem,
                Description = "A pair of PEM-encoded public and private keys.",
            },
            Typedefs.Tags(),
            Typedefs.AutoTimestamp("created_at"),
            Typedefs.AutoTimestamp("updated_at"),
        ],
        Checks =
        [
            new MutuallyExclusiveCheck(Formats),
            new AtLeastOneOfCheck(Formats),
            new JwkCheck(),
        ],
    };

    public static KeyModel ToModel(JsonObject e)
    {
        var r = new EntityReader(Schema, e);
        var pem = e["pem"] as JsonObject;
        return new()
        {
            Id = r.Guid("id"),
            Name = r.String("name"),
            Kid = r.RequiredString("kid"),
            SetId = r.ForeignId("set"),
            Jwk = r.String("jwk"),
            PemPrivateKey = pem is null ? null : EntityJson.String(pem, "private_key"),
            PemPublicKey = pem is null ? null : EntityJson.String(pem, "public_key"),
            Tags = r.Strings("tags"),
        };
    }

    /// <summary>Kong's keys custom entity check over jwk, pem and kid (the JWK's failures; the PEM ones are the pem
    /// field's own validator).</summary>
    private sealed record JwkCheck : EntityCheck
    {
        public override IReadOnlyList<string> Sources => ["jwk", "pem", "kid"];

        public override CheckFailure? Evaluate(JsonObject entity) => KeyMaterial.CheckJwk(entity);
    }
}
