namespace Gatehouse.Plugins;

/// <summary>
/// One plugin name on one plan: the configured instances that may apply there, most specific scope first. The
/// instance that runs is chosen per request once the consumer is known, with Kong's precedence:
/// route+service+consumer &gt; route+consumer &gt; service+consumer &gt; route+service &gt; consumer &gt; route &gt;
/// service &gt; global.
/// </summary>
internal sealed class PluginSlot
{
    private readonly Candidate[] _candidates;

    /// <param name="position">the slot's place among its plan's plugin slots (its <see cref="SkipBit"/>)</param>
    public PluginSlot(GatehousePlugin plugin, IEnumerable<Candidate> candidates, int position = -1)
    {
        Plugin = plugin;
        SkipBit = position is >= 0 and < 63 ? 1UL << position : 0;
        _candidates = [.. candidates.OrderByDescending(c => c.Rank)];
        Phases = _candidates.Aggregate(PluginPhases.None, (p, c) => p | c.Handler.Phases);
        DependsOnConsumer = _candidates.Any(c => c.ConsumerId is not null);
        RecordsSpans = _candidates.Any(c => c.Handler.RecordsSpans);
    }

    public GatehousePlugin Plugin { get; }
    public string Name => Plugin.Name;
    public PluginPhases Phases { get; }
    /// <summary>An instance is scoped to a consumer: which one runs is known only once authentication ran.</summary>
    public bool DependsOnConsumer { get; }
    /// <summary>An instance records spans of its own (<see cref="PluginHandler.RecordsSpans"/>).</summary>
    public bool RecordsSpans { get; }
    /// <summary>The <see cref="Proxy.Pipeline.ProxyContext.SkippedSteps"/> bit that passes over this slot's header_filter
    /// and log steps (<see cref="Kong.SkipLaterPhases"/>); one per slot of a plan, bit 63 being
    /// <see cref="Kong.NoPendingHeaders"/>. 0 (never skipped) past the 63rd slot.</summary>
    public ulong SkipBit { get; }

    /// <summary>The instance for this request's consumer (or none identified), or null when none applies. As in
    /// Kong, the most specific instance is chosen first and then skipped if the request's protocol is not among
    /// its <c>protocols</c> (no fallback to a less specific instance).</summary>
    public PluginHandler? Resolve(Kong kong) => ResolveCandidate(kong)?.Handler;

    /// <summary>The instance <see cref="Resolve"/> picks, with its id (request debugging names it).</summary>
    public Candidate? ResolveCandidate(Kong kong)
    {
        var consumer = kong.Consumer?.Id;
        foreach (var c in _candidates)
            if (c.ConsumerId is null || c.ConsumerId == consumer)
                return c.AllProtocols || c.Protocols.Contains(kong.Protocol) ? c : null;
        return null;
    }

    /// <param name="Id">the plugin entity's id, as text once (request debugging's span name)</param>
    internal sealed record Candidate(int Rank, Guid? ConsumerId, PluginHandler Handler, IReadOnlySet<string> Protocols, string Id)
    {
        /// <summary>http, https, grpc and grpcs all listed: no per-request check needed.</summary>
        public bool AllProtocols { get; } = Protocols.Contains("http") && Protocols.Contains("https") && Protocols.Contains("grpc") && Protocols.Contains("grpcs");
    }

    /// <summary>Kong's scope precedence as a number (higher wins).</summary>
    public static int Rank(bool route, bool service, bool consumer) => (route, service, consumer) switch
    {
        (true, true, true) => 7,
        (true, false, true) => 6,
        (false, true, true) => 5,
        (true, true, false) => 4,
        (false, false, true) => 3,
        (true, false, false) => 2,
        (false, true, false) => 1,
        _ => 0,
    };
}
