namespace ProxyWasm.Http;

/// <summary>Result of one filter phase; a small struct so the common <see cref="Continue"/> allocates nothing.</summary>
public readonly record struct FilterOutcome
{
    private FilterOutcome(FilterOutcomeKind kind, LocalResponse? local, string? error)
    {
        Kind = kind;
        LocalResponse = local;
        Error = error;
    }

    /// <summary>What to do next.</summary>
    public FilterOutcomeKind Kind { get; }

    /// <summary>The local response when <see cref="Kind"/> is <see cref="FilterOutcomeKind.LocalResponse"/>.</summary>
    public LocalResponse? LocalResponse { get; }

    /// <summary>The failure description (trap message) when <see cref="Kind"/> is <see cref="FilterOutcomeKind.Failed"/>.</summary>
    public string? Error { get; }

    /// <summary>Proceed.</summary>
    public static FilterOutcome Continue => default;

    /// <summary>Keep buffering the body.</summary>
    public static FilterOutcome BufferBody { get; } = new(FilterOutcomeKind.BufferBody, null, null);

    /// <summary>Stream closed by the filter.</summary>
    public static FilterOutcome Closed { get; } = new(FilterOutcomeKind.Closed, null, null);

    /// <summary>Answer locally.</summary>
    public static FilterOutcome Local(LocalResponse response) => new(FilterOutcomeKind.LocalResponse, response ?? throw new ArgumentNullException(nameof(response)), null);

    /// <summary>The VM failed.</summary>
    public static FilterOutcome Failure(string error) => new(FilterOutcomeKind.Failed, null, error);

    /// <inheritdoc />
    public override string ToString() => Kind switch
    {
        FilterOutcomeKind.LocalResponse => $"LocalResponse({LocalResponse!.StatusCode})",
        FilterOutcomeKind.Failed => $"Failed({Error})",
        _ => Kind.ToString(),
    };
}
