using ProxyWasm.Http;

namespace ProxyWasm.Runtime;

/// <summary>
/// Immutable identity and configuration of one configured filter entry (cpp-host <c>PluginBase</c>).
/// One <see cref="FilterPlugin"/> is created from it; changing anything means creating a new plugin.
/// </summary>
public sealed record FilterPluginConfig
{
    /// <summary>Filter (plugin) name: answered by the <c>plugin_name</c> property and used in logs and metrics.</summary>
    public required string Name { get; init; }

    /// <summary>Root id (<c>plugin_root_id</c>); AssemblyScript/C++ SDKs select their root context factory by it.</summary>
    public string RootId { get; init; } = "";

    /// <summary>VM id (<c>plugin_vm_id</c>); scopes shared data and queues.</summary>
    public string VmId { get; init; } = "";

    /// <summary>Bytes of buffer 6 (<c>VM_CONFIGURATION</c>) during <c>proxy_on_vm_start</c>.</summary>
    public ReadOnlyMemory<byte> VmConfiguration { get; init; }

    /// <summary>Bytes of buffer 7 (<c>PLUGIN_CONFIGURATION</c>) during <c>proxy_on_configure</c>.</summary>
    public ReadOnlyMemory<byte> Configuration { get; init; }

    /// <summary>Resource limits for every VM of this plugin.</summary>
    public WasmLimits Limits { get; init; } = new();

    /// <summary>What requests see when a VM fails.</summary>
    public FailPolicy FailPolicy { get; init; } = FailPolicy.FailClosed;

    /// <summary>
    /// VMs (Store + Instance) of this filter entry, started with it and kept at this count (a dead VM is replaced).
    /// Each holds the HTTP contexts of many concurrent requests, so memory does not grow with concurrency; more VMs
    /// let more callbacks of this entry run in parallel. Default: processor count (Envoy: one VM per worker thread).
    /// </summary>
    public int PoolSize { get; init; } = System.Environment.ProcessorCount;

    /// <summary>
    /// Requests per VM above which the entry starts one more VM (in the background, within the start budget), up to
    /// <see cref="MaxPoolSize"/>; 0 (the default) = no bound, as Envoy and ngx_wasm_module. For guests whose work per
    /// request grows with the contexts alive in their VM (an SDK that walks its context table on every new context):
    /// the bound caps that work at the price of a VM's memory per step. VMs above <see cref="PoolSize"/> are shut down
    /// (<c>proxy_on_done</c>/<c>proxy_on_delete</c> on their root) once idle while the others have room for twice the load.
    /// </summary>
    public int ContextsPerVm { get; init; }

    /// <summary>Most VMs this entry grows to under <see cref="ContextsPerVm"/>; at least <see cref="PoolSize"/>
    /// (0 = <see cref="PoolSize"/>: no growth).</summary>
    public int MaxPoolSize { get; init; }

    /// <summary>The effective cap on VMs: <see cref="MaxPoolSize"/>, never below <see cref="PoolSize"/>.</summary>
    internal int VmCap => Math.Max(PoolSize, MaxPoolSize);

    /// <summary>Encoding of typed property values.</summary>
    public PropertyEncoding PropertyEncoding { get; init; } = PropertyEncoding.Binary;

    /// <summary>
    /// ngx behaviour: a request paused in a request phase resumes by itself once its last pending
    /// <c>proxy_http_call</c> completed without the filter resuming or answering. Off = Envoy behaviour.
    /// </summary>
    public bool AutoResumeAfterHttpCalls { get; init; }

    /// <summary>Plugin-level properties (e.g. <c>kong.node.id</c>) answered in root and HTTP contexts; may be null.</summary>
    public IPropertyProvider? Properties { get; init; }

    /// <summary>Environment variables the guest sees through WASI <c>environ_get</c> (never the host's).</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    internal void Validate()
    {
        ArgumentException.ThrowIfNullOrEmpty(Name);
        ArgumentNullException.ThrowIfNull(RootId);
        ArgumentNullException.ThrowIfNull(VmId);
        ArgumentNullException.ThrowIfNull(Limits);
        Limits.Validate();
        if (PoolSize < 1) throw new ArgumentOutOfRangeException(nameof(PoolSize), "must be at least 1");
        if (ContextsPerVm < 0) throw new ArgumentOutOfRangeException(nameof(ContextsPerVm), "must be 0 (no bound) or more");
        if (MaxPoolSize < 0) throw new ArgumentOutOfRangeException(nameof(MaxPoolSize), "must be 0 (PoolSize) or more");
    }
}
