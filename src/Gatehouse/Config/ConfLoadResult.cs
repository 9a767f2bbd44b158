namespace Gatehouse.Config;

/// <summary>What loading a configuration produced: the options when valid, plus warnings and errors
/// (each error names its key), so callers decide how to report and whether to stop.</summary>
public sealed record ConfLoadResult(GatehouseOptions? Options, IReadOnlyList<string> Warnings, IReadOnlyList<string> Errors)
{
    public bool IsValid => Options is not null && Errors.Count == 0;
}
