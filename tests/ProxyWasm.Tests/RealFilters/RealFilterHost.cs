using System.Text;
using ProxyWasm.Abi;
using ProxyWasm.Http;
using ProxyWasm.Runtime;
using ProxyWasm.Shared;

namespace ProxyWasm.Tests.RealFilters;

/// <summary>
/// The one place the real-filter conformance tests touch the host's construction API: a real
/// <see cref="WasmHost"/> (real Wasmtime) loading the project's committed <c>filters/**.wasm</c> modules, with a
/// capturing logger. Keeping every host call here means small API drift is fixed in one file.
/// </summary>
internal sealed class RealFilterHost : IDisposable
{
    private static readonly Lazy<string> Root = new(FindRepositoryRoot);
    private readonly Dictionary<string, FilterModule> _modules = new(StringComparer.Ordinal);
    private readonly List<FilterPlugin> _plugins = [];

    public RealFilterHost(IHttpCallDispatcher? dispatcher = null, Microsoft.Extensions.Logging.LogLevel minimumLevel = Microsoft.Extensions.Logging.LogLevel.Trace)
    {
        Logs = new FilterLogSink(minimumLevel);
        Host = new WasmHost(new WasmHostOptions
        {
            LoggerFactory = new FilterLogSinkFactory(Logs),
            HttpCallDispatcher = dispatcher,
        });
    }

    public WasmHost Host { get; }

    public FilterLogSink Logs { get; }

    /// <summary>Repository root: the first directory above the test binaries holding <c>Gatehouse.sln</c>.</summary>
    public static string RepositoryRoot => Root.Value;

    /// <summary>Absolute path of a committed filter, e.g. <c>filters/test/phases.wasm</c>.</summary>
    public static string FilterPath(string relative) => Path.Combine(RepositoryRoot, relative.Replace('/', Path.DirectorySeparatorChar));

    /// <summary>Loads (once per host) a committed module; the filter name is the file name without <c>.wasm</c>.</summary>
    public FilterModule Load(string relative)
    {
        if (_modules.TryGetValue(relative, out var module)) return module;
        module = Host.LoadModule(Path.GetFileNameWithoutExtension(relative), FilterPath(relative));
        _modules[relative] = module;
        return module;
    }

    /// <summary>Starts a plugin (VM pool + root contexts); throws <see cref="FilterConfigurationException"/> when rejected.</summary>
    public FilterPlugin Start(string relative, string config = "", PluginOptions? options = null)
    {
        var plugin = Host.CreatePlugin(Load(relative), Config(relative, config, options ?? new PluginOptions()));
        _plugins.Add(plugin);
        return plugin;
    }

    /// <summary>Starts a plugin expecting rejection, returning the host's explanation.</summary>
    public ConfigureResult StartRejected(string relative, string config, PluginOptions? options = null)
    {
        var ex = Assert.Throws<FilterConfigurationException>(() => Start(relative, config, options));
        return ex.Result;
    }

    /// <summary>Checks a configuration the way the gateway will on an Admin API write (scratch VM).</summary>
    public ConfigureResult Validate(string relative, string config, PluginOptions? options = null)
        => Host.Validate(Load(relative), Config(relative, config, options ?? new PluginOptions()));

    /// <summary>Detected ABI of a committed module.</summary>
    public AbiVersion AbiOf(string relative) => Load(relative).AbiVersion;

    /// <summary>One filter-defined metric from the host's registry, or null.</summary>
    public MetricSnapshot? Metric(string plugin, string name) => Host.Metrics.Find(plugin, name);

    /// <summary>Runs one request through <paramref name="plugin"/> as a single-filter chain.</summary>
    public Task<FilterExchange> SendAsync(FilterPlugin plugin, RequestSpec request) => FilterExchange.RunAsync(plugin, request);

    /// <summary>Creates a request context without driving it (tests that interleave phases by hand).</summary>
    public static (FilterExchange Exchange, InMemoryHttpStream Stream) Open(FilterPlugin plugin, RequestSpec request)
        => FilterExchange.Open(plugin, request);

    /// <summary>VMs created for the plugin so far, replacements included.</summary>
    public static int VmsCreated(FilterPlugin plugin) => plugin.VmsCreated;

    /// <summary>VMs of the plugin currently alive.</summary>
    public static int LiveVms(FilterPlugin plugin) => plugin.LiveVmCount;

    /// <summary>Polls until <paramref name="condition"/> holds (async host work: ticks, queues, VM replacement).</summary>
    public static async Task<bool> WaitUntilAsync(Func<bool> condition, int timeoutMs = 10_000)
    {
        var deadline = DateTime.UtcNow.AddMilliseconds(timeoutMs);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) return false;
            await Task.Delay(10);
        }
        return true;
    }

    /// <summary>
    /// Host limits with a 5 s call deadline instead of 100 ms: the deadline is wall-clock, so on a loaded 2-core
    /// runner a cold first callback (host functions JIT-compiled, a GC pause) can exceed 100 ms and be interrupted,
    /// which made unrelated tests flaky. Tests of the deadline itself pass their own <see cref="WasmLimits"/>.
    /// </summary>
    public static readonly WasmLimits Relaxed = new() { CallDeadline = TimeSpan.FromSeconds(5) };

    private static FilterPluginConfig Config(string relative, string config, PluginOptions o) => new()
    {
        Name = o.Name ?? Path.GetFileNameWithoutExtension(relative),
        RootId = o.RootId ?? "",
        VmId = o.VmId ?? "",
        Configuration = Encoding.UTF8.GetBytes(config),
        PoolSize = o.PoolSize,
        Limits = o.Limits ?? Relaxed,
        FailPolicy = FailPolicy.FailClosed,
        Environment = o.Environment ?? new Dictionary<string, string>(),
        AutoResumeAfterHttpCalls = o.AutoResumeAfterHttpCalls,
    };

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Gatehouse.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException("Gatehouse.sln not found above " + AppContext.BaseDirectory);
    }

    public void Dispose()
    {
        foreach (var plugin in _plugins) plugin.Dispose();
        foreach (var module in _modules.Values) module.Dispose();
        Host.Dispose();
    }
}

/// <summary>Per-plugin knobs the tests vary (everything else takes the host defaults).</summary>
internal sealed record PluginOptions
{
    public string? Name { get; init; }

    public string? RootId { get; init; }

    public string? VmId { get; init; }

    public int PoolSize { get; init; } = 1;

    public WasmLimits? Limits { get; init; }

    public IReadOnlyDictionary<string, string>? Environment { get; init; }

    /// <summary>ngx behaviour: a request paused for callouts resumes by itself after the last one completes.</summary>
    public bool AutoResumeAfterHttpCalls { get; init; }
}
