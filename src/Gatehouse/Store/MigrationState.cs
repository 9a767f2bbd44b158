namespace Gatehouse.Store;

/// <summary>
/// What the database's recorded migrations say compared with the ones this binary knows (Kong's schema state):
/// whether it needs bootstrapping, the known migrations not yet run ("new" in Kong's words) and the recorded ones
/// this binary does not know (a newer Gatehouse ran them). Gatehouse's migrations have no teardown phase, so
/// nothing is ever left "pending" for <c>migrations finish</c>.
/// </summary>
public sealed record MigrationState(IReadOnlyList<ExecutedMigration> Executed, IReadOnlyList<string> New, IReadOnlyList<string> Unknown,
    int Known, bool NeedsBootstrap)
{
    /// <summary>The schema version: how many of this binary's migrations ran; <see cref="Known"/> when up to date.</summary>
    public int SchemaVersion => Executed.Count - Unknown.Count;

    public bool IsUpToDate => !NeedsBootstrap && New.Count == 0 && Unknown.Count == 0;

    /// <summary>Kong's NEEDS_BOOTSTRAP_MSG, naming Gatehouse's commands.</summary>
    public const string NeedsBootstrapMessage = "Database needs bootstrapping or is older than Kong 1.0.\n\n" +
        "To start a new installation from scratch, run 'gatehouse migrations bootstrap'.\n";

    public const string NewMigrationsMessage = "New migrations available; run 'gatehouse migrations up' to proceed";

    public static async Task<MigrationState> ReadAsync(IEntityStore store, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(store);
        var known = store.Migrations;
        // in the order they run (one transaction records several at the same second), a newer binary's last
        var position = known.Select((name, i) => (name, i)).ToDictionary(x => x.name, x => x.i, StringComparer.Ordinal);
        IReadOnlyList<ExecutedMigration> executed = [.. (await store.ExecutedMigrationsAsync(ct) ?? [])
            .OrderBy(m => position.GetValueOrDefault(m.Name, int.MaxValue))];
        var ran = executed.Select(m => m.Name).ToHashSet(StringComparer.Ordinal);
        // an empty migrations table is what a failed first bootstrap on SQLite can leave: bootstrap again
        return new MigrationState(executed, [.. known.Where(n => !ran.Contains(n))],
            [.. executed.Select(m => m.Name).Where(n => !position.ContainsKey(n))], known.Count, NeedsBootstrap: executed.Count == 0);
    }

    /// <summary>Why a database a newer Gatehouse migrated cannot be used by this one; null when there is nothing unknown.</summary>
    public string? UnknownMessage() => Unknown.Count == 0 ? null :
        $"the database has migrations this Gatehouse ({GatehouseVersion.Current}) does not know: {string.Join(", ", Unknown)}; " +
        "it was migrated by a newer Gatehouse: run that version";

    /// <summary>Why this binary cannot read and write this database as it is (Kong's <c>check_state</c>); null when it can.</summary>
    public string? Refusal() =>
        UnknownMessage() ??
        (NeedsBootstrap ? NeedsBootstrapMessage.TrimEnd()
        : New.Count > 0 ? $"{NewMigrationsMessage}: {string.Join(", ", New)}"
        : null);

    /// <summary>Why a node started without <c>--run-migrations</c> cannot use this database; null when it can.</summary>
    public string? StartRefusal() => Refusal() is not { } refusal ? null
        : Unknown.Count > 0 ? refusal
        : refusal + "\n(or start the node with 'gatehouse start --run-migrations')";
}
