namespace Gatehouse.Model;

/// <summary>
/// A Kong route as the router sees it: immutable, validated, defaults applied.
/// </summary>
public sealed record RouteModel
{
    public required Guid Id { get; init; }
    /// <summary>The entity as the Admin API returns it (UTF-8 JSON, every field of its schema; Kong's
    /// <c>kong.router.route</c>). Empty for a model not built from a stored entity, and on a node with <c>wasm = off</c> (<see cref="GatewayConfig.EntityDocuments"/>).</summary>
    public ReadOnlyMemory<byte> Document { get; init; }
    public string? Name { get; init; }
    public IReadOnlyList<string> Protocols { get; init; } = ["http", "https"];
    public IReadOnlyList<string> Methods { get; init; } = [];
    /// <summary>Exact hosts, or one leading/trailing '*' wildcard; may carry ":port".</summary>
    public IReadOnlyList<string> Hosts { get; init; } = [];
    /// <summary>Prefix paths, or regexes when they start with '~'.</summary>
    public IReadOnlyList<string> Paths { get; init; } = [];
    /// <summary>Header name (lower case) → accepted values (a value starting with "~*" is a regex).</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Headers { get; init; } = NoHeaders;

    /// <summary>One empty header map shared by every route without headers (most routes; one each was 8 MB for 100,000).</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<string>> NoHeaders { get; } =
        System.Collections.ObjectModel.ReadOnlyDictionary<string, IReadOnlyList<string>>.Empty;
    public IReadOnlyList<string> Snis { get; init; } = [];
    public bool StripPath { get; init; } = true;
    public bool PreserveHost { get; init; }
    public int RegexPriority { get; init; }
    /// <summary>"v0" or "v1".</summary>
    public string PathHandling { get; init; } = "v0";
    public int HttpsRedirectStatusCode { get; init; } = 426;
    public bool RequestBuffering { get; init; } = true;
    public bool ResponseBuffering { get; init; } = true;
    public Guid? ServiceId { get; init; }
    public IReadOnlyList<string> Tags { get; init; } = [];
    public long CreatedAt { get; init; }
    public long UpdatedAt { get; init; }
}
