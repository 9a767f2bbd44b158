using System.Collections.Frozen;
using Gatehouse.Model;

namespace Gatehouse.Plugins;

/// <summary>Lookups the auth plugins need, built once per configuration: consumers by id, credentials by key or
/// username, ACL groups per consumer.</summary>
public sealed class ConsumerIndex
{
    public ConsumerIndex(GatewayConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        Consumers = config.Consumers.ToFrozenDictionary(c => c.Id);
        Keys = config.KeyAuthCredentials.GroupBy(k => k.Key, StringComparer.Ordinal).ToFrozenDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        BasicAuth = config.BasicAuthCredentials.GroupBy(b => b.Username, StringComparer.Ordinal).ToFrozenDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        Groups = config.Acls.GroupBy(a => a.ConsumerId)
            .ToFrozenDictionary(g => g.Key, g => (IReadOnlyList<string>)[.. g.Select(a => a.Group)]);
    }

    public FrozenDictionary<Guid, ConsumerModel> Consumers { get; }
    public FrozenDictionary<string, KeyAuthCredentialModel> Keys { get; }
    public FrozenDictionary<string, BasicAuthCredentialModel> BasicAuth { get; }
    public FrozenDictionary<Guid, IReadOnlyList<string>> Groups { get; }

    public ConsumerModel? Consumer(Guid id) => Consumers.GetValueOrDefault(id);

    /// <summary>Kong's anonymous consumer lookup: by id or by username.</summary>
    public ConsumerModel? ByIdOrUsername(string value) =>
        Guid.TryParse(value, out var id) ? Consumer(id) : Consumers.Values.FirstOrDefault(c => c.Username == value);

    public IReadOnlyList<string> GroupsOf(Guid consumerId) => Groups.GetValueOrDefault(consumerId) ?? [];
}
