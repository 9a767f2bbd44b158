using Microsoft.Extensions.Logging;
using ProxyWasm.Abi;
using ProxyWasm.Http;
using ProxyWasm.Shared;
using Wasmtime;

namespace ProxyWasm.Runtime;

/// <summary>
/// The Proxy-Wasm host: one per process. Owns the Wasmtime <see cref="Engine"/> (epoch interruption on), the
/// shared <see cref="Linker"/> with every host function, the epoch ticker and the process-wide shared data,
/// queues, metrics and foreign-function registries. Load modules with <see cref="LoadModule(string, string)"/>,
/// start filter entries with <see cref="CreatePlugin"/>, check a configuration with <see cref="Validate(FilterModule, FilterPluginConfig)"/>.
/// </summary>
public sealed class WasmHost : IDisposable
{
    private readonly EpochTicker _ticker;
    private readonly ILogger _logger;

    /// <summary>Creates the host (engine, linker, epoch ticker).</summary>
    public WasmHost(WasmHostOptions? options = null)
    {
        Options = options ?? new WasmHostOptions();
        if (Options.EpochInterval <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(options), "EpochInterval must be positive");
        if (Options.IdleEpochInterval < Options.EpochInterval)
            throw new ArgumentOutOfRangeException(nameof(options), "IdleEpochInterval must not be shorter than EpochInterval");
        _logger = Options.LoggerFactory.CreateLogger("ProxyWasm.Host");
        LogLimiter = new LogRateLimiter(Options.TimeProvider);
        using (var config = new Config())
        {
            Engine = new Engine(config.WithEpochInterruption(true));
        }
        Linker = new Linker(Engine);
        HostFunctionTable.DefineAll(Linker);
        _ticker = new EpochTicker(Engine, Options.EpochInterval, Options.IdleEpochInterval);
    }

    /// <summary>Called as every guest call starts (keeps the epoch ticker at its busy rate).</summary>
    internal void NoteGuestCall() => _ticker.NoteActivity();

    /// <summary>Epoch ticks so far (<see cref="EpochTicker.Ticks"/>).</summary>
    internal long EpochTicks => _ticker.Ticks;

    /// <summary>Host settings.</summary>
    public WasmHostOptions Options { get; }

    /// <summary>Filter-defined metrics, for export (e.g. Prometheus).</summary>
    public MetricsRegistry Metrics { get; } = new();

    /// <summary>The host's own per-filter figures (callback durations, traps, deadline hits, fail-open skips).</summary>
    public FilterStatsRegistry FilterStats { get; } = new();

    /// <summary>Functions filters may call with <c>proxy_call_foreign_function</c>.</summary>
    public ForeignFunctionRegistry ForeignFunctions { get; } = new();

    internal Engine Engine { get; }

    internal Linker Linker { get; }

    internal SharedDataStore SharedData { get; } = new();

    internal SharedQueueRegistry Queues { get; } = new();

    internal TimeProvider TimeProvider => Options.TimeProvider;

    /// <summary>Cuts floods of the host's per-request failure lines (any client can make a filter trap at request rate).</summary>
    internal LogRateLimiter LogLimiter { get; }

    internal IHttpCallDispatcher? HttpCallDispatcher => Options.HttpCallDispatcher;

    /// <summary>Loads and compiles a .wasm (or WAT text) file; throws <see cref="ModuleLoadException"/> naming the file.</summary>
    public FilterModule LoadModule(string name, string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (IOException ex)
        {
            throw new ModuleLoadException($"{path}: cannot read module: {ex.Message}", ex);
        }
        return ModuleLoader.Load(this, name, path, bytes, _logger);
    }

    /// <summary>Loads a module from bytes: binary wasm, or UTF-8 WAT text.</summary>
    public FilterModule LoadModule(string name, ReadOnlySpan<byte> wasmOrWat)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return ModuleLoader.Load(this, name, null, wasmOrWat.ToArray(), _logger);
    }

    /// <summary>
    /// Starts a filter entry: creates its VM pool, each VM running create → <c>proxy_on_vm_start</c> →
    /// <c>proxy_on_configure</c>. Throws <see cref="FilterConfigurationException"/> when the filter rejects the
    /// configuration or traps.
    /// </summary>
    public FilterPlugin CreatePlugin(FilterModule module, FilterPluginConfig config)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        var plugin = new FilterPlugin(this, module, config);
        var result = plugin.Start();
        if (!result.Success)
        {
            plugin.Dispose();
            throw new FilterConfigurationException(result);
        }
        return plugin;
    }

    /// <summary>
    /// Validates a configuration on a scratch VM (instantiate, vm_start, configure, then discard) — cheap enough to
    /// run on every Admin API write. Never throws for filter failures.
    /// </summary>
    public ConfigureResult Validate(FilterModule module, FilterPluginConfig config)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        using var vm = new WasmVm(this, module, config with { PoolSize = 1 }, onDeath: null) { IsScratch = true };
        return vm.Start();
    }

    /// <summary>Validates <paramref name="configuration"/> as the plugin configuration of a filter named after the module.</summary>
    public ConfigureResult Validate(FilterModule module, ReadOnlyMemory<byte> configuration)
        => Validate(module, new FilterPluginConfig { Name = module.Name, Configuration = configuration });

    internal ILogger CreateFilterLogger(string pluginName) => Options.LoggerFactory.CreateLogger("ProxyWasm.Filter." + pluginName);

    /// <summary>Stops the epoch ticker and releases the engine (dispose plugins and modules first).</summary>
    public void Dispose()
    {
        _ticker.Dispose();
        Linker.Dispose();
        Engine.Dispose();
    }
}
