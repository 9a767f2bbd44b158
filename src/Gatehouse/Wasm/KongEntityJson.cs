using System.Text;
using Gatehouse.Model;

namespace Gatehouse.Wasm;

/// <summary>The matched route and service as Kong's <c>kong.router.route</c> / <c>kong.router.service</c> give them
/// (§7.2): the entity as the Admin API returns it, every field of its schema, with the route's service as a
/// <c>{"id": …}</c> foreign key, so a filter parses the same JSON it would get from Kong. The model carries it,
/// written from the schema's field list when the configuration is built (<c>EntityJson.Document</c>).</summary>
internal static class KongEntityJson
{
    public static string? Route(RouteModel r) => Text(r.Document);

    public static string? Service(ServiceModel s) => Text(s.Document);

    private static string? Text(ReadOnlyMemory<byte> document) => document.IsEmpty ? null : Encoding.UTF8.GetString(document.Span);
}
