namespace ProxyWasm.Runtime;

/// <summary>
/// Outcome of starting a filter configuration on a VM (instantiate → init → root context create →
/// <c>proxy_on_vm_start</c> → <c>proxy_on_configure</c>). The gateway shows <see cref="Error"/> as a validation error.
/// </summary>
/// <param name="Success">True when every step succeeded.</param>
/// <param name="Stage">The step that failed (null on success).</param>
/// <param name="Error">Human-readable reason, including the filter's own error logs.</param>
public sealed record ConfigureResult(bool Success, string? Stage, string? Error)
{
    /// <summary>The success result.</summary>
    public static ConfigureResult Ok { get; } = new(true, null, null);

    /// <summary>A failure at <paramref name="stage"/>.</summary>
    public static ConfigureResult Fail(string stage, string error) => new(false, stage, error);
}
