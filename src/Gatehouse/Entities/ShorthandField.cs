using System.Text.Json.Nodes;

namespace Gatehouse.Entities;

/// <summary>
/// Input-only sugar that expands into real fields before validation (Kong's <c>shorthand_fields</c>),
/// e.g. a service's <c>url</c> into protocol, host, port and path. Never stored or returned.
/// </summary>
public sealed record ShorthandField(string Name, FieldType Type, Func<JsonNode, JsonObject> Expand);
