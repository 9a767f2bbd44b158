namespace ProxyWasm.Runtime;

/// <summary>Thrown by <see cref="WasmHost.CreatePlugin"/> when the filter rejects its configuration or traps while starting.</summary>
public sealed class FilterConfigurationException : Exception
{
    /// <summary>Creates the exception from the failed result.</summary>
    public FilterConfigurationException(ConfigureResult result) : base(result.Error) => Result = result;

    /// <summary>The failed start result (stage + message).</summary>
    public ConfigureResult Result { get; }
}
