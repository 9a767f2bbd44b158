using System.Collections.Immutable;

namespace Gatehouse.Model;

/// <summary>
/// The whole configuration the data plane runs on, as one immutable value.
/// Every change from any source (Admin API, declarative file, database) produces a new instance,
/// published through <see cref="GatewayConfigPublisher"/>. Entities to come (filter chains, plugins,
/// consumers) are added here as further immutable lists.
/// </summary>
public sealed record GatewayConfig
{
    public static GatewayConfig Empty { get; } = new();

    /// <summary>Monotonic version; a higher value is newer.</summary>
    public long Version { get; init; }
    /// <summary>Whether routes and services carry their Admin API JSON (<see cref="RouteModel.Document"/>), which only
    /// a Wasm filter reads (<c>kong.router.route</c>/<c>service</c>). False on a node with <c>wasm = off</c>: 100,000
    /// routes' documents were 52 MB that nothing could read. Set before the entities are added (Store/GatewayConfigBuilder).</summary>
    public bool EntityDocuments { get; init; } = true;
    public ImmutableArray<ServiceModel> Services { get; init; } = [];
    public ImmutableArray<RouteModel> Routes { get; init; } = [];
    // :: plugins and consumers (issue 5)
    public ImmutableArray<PluginModel> Plugins { get; init; } = [];
    public ImmutableArray<ConsumerModel> Consumers { get; init; } = [];
    public ImmutableArray<KeyAuthCredentialModel> KeyAuthCredentials { get; init; } = [];
    public ImmutableArray<BasicAuthCredentialModel> BasicAuthCredentials { get; init; } = [];
    public ImmutableArray<AclModel> Acls { get; init; } = [];
    /// <summary>Wasm filter chains (issue 4).</summary>
    public ImmutableArray<FilterChainModel> FilterChains { get; init; } = [];
    /// <summary>Upstreams and their targets (issue 12).</summary>
    public ImmutableArray<UpstreamModel> Upstreams { get; init; } = [];
    public ImmutableArray<TargetModel> Targets { get; init; } = [];
    /// <summary>Certificates and their SNIs (proxy TLS handshakes pick by SNI: Hosting/SniCertificates) and CA certificates.</summary>
    public ImmutableArray<CertificateModel> Certificates { get; init; } = [];
    public ImmutableArray<SniModel> Snis { get; init; } = [];
    public ImmutableArray<CaCertificateModel> CaCertificates { get; init; } = [];
    /// <summary>Key sets and keys (issue 14): stored and validated; no bundled plugin reads them.</summary>
    public ImmutableArray<KeySetModel> KeySets { get; init; } = [];
    public ImmutableArray<KeyModel> Keys { get; init; } = [];
    /// <summary>Named vaults: what references in referenceable fields resolve with (Store/GatewayConfigBuilder).</summary>
    public ImmutableArray<VaultModel> Vaults { get; init; } = [];
}
