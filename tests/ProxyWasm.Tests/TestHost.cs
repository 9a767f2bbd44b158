using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.Logging;
using ProxyWasm.Contexts;
using ProxyWasm.Http;
using ProxyWasm.Runtime;
using Wasmtime;

namespace ProxyWasm.Tests;

/// <summary>A real <see cref="WasmHost"/> with a capturing logger and helpers to reach guest memory.</summary>
internal sealed class TestHost : IDisposable
{
    public TestHost(IHttpCallDispatcher? dispatcher = null, string? cacheDir = null)
    {
        Logs = new CapturingLoggerProvider();
        Host = new WasmHost(new WasmHostOptions
        {
            LoggerFactory = new CapturingLoggerFactory(Logs),
            HttpCallDispatcher = dispatcher,
            CompiledCacheDirectory = cacheDir,
        });
    }

    public WasmHost Host { get; }

    /// <summary>Default limits with a 2 s call deadline so a loaded CI box never trips it by accident.</summary>
    public static WasmLimits Relaxed { get; } = new() { CallDeadline = TimeSpan.FromSeconds(2) };

    public CapturingLoggerProvider Logs { get; }

    public static string ModulePath(string file) => Path.Combine(AppContext.BaseDirectory, "Modules", file);

    public FilterModule Load(string file) => Host.LoadModule(Path.GetFileNameWithoutExtension(file), ModulePath(file));

    public FilterPlugin Plugin(string file, string config = "", int pool = 1, string vmId = "", WasmLimits? limits = null, FailPolicy policy = FailPolicy.FailClosed, string? name = null)
        => Host.CreatePlugin(Load(file), new FilterPluginConfig
        {
            Name = name ?? Path.GetFileNameWithoutExtension(file),
            RootId = "root-" + file,
            VmId = vmId,
            Configuration = Encoding.UTF8.GetBytes(config),
            PoolSize = pool,
            Limits = limits ?? Relaxed,
            FailPolicy = policy,
        });

    public void Dispose() => Host.Dispose();
}

/// <summary>Direct access to a VM's guest for byte-exact ABI tests.</summary>
internal sealed class Guest(WasmVm vm, ContextBase? context)
{
    public WasmVm Vm { get; } = vm;

    public ContextBase? Context { get; } = context;

    public static Guest Of(HttpFilterContext http) => new(http.Vm, http.Stream);

    public static Guest Root(FilterPlugin plugin, int vm = 0) => new(plugin.Vms[vm], plugin.Vms[vm].Root);

    public int Call(string export, params int[] args)
        => Vm.InvokeExport(Context, export, args.Select(a => (ValueBox)a).ToArray()) ?? throw new InvalidOperationException("guest trapped: " + Vm.DeathReason);

    public int? TryCall(string export, params ValueBox[] args) => Vm.InvokeExport(Context, export, args);

    public int Write(byte[] bytes)
    {
        int ptr = Vm.InvokeExport(null, "malloc", Math.Max(bytes.Length, 1)) ?? throw new InvalidOperationException();
        bytes.CopyTo(Vm.Memory!.GetSpan(ptr, bytes.Length));
        return ptr;
    }

    public int Write(string text) => Write(Encoding.UTF8.GetBytes(text));

    public int Alloc(int size) => Write(new byte[size]);

    public uint U32(int ptr) => (uint)Vm.Memory!.ReadInt32(ptr);

    public ulong U64(int ptr) => (ulong)Vm.Memory!.ReadInt64(ptr);

    public byte[] Bytes(int ptr, int len) => len == 0 ? [] : Vm.Memory!.GetSpan(ptr, len).ToArray();

    /// <summary>Reads the (ptr, size) pair the host wrote at two return slots.</summary>
    public byte[] Returned(int retPtr, int retSize) => Bytes((int)U32(retPtr), (int)U32(retSize));

    public string ReturnedString(int retPtr, int retSize) => Encoding.UTF8.GetString(Returned(retPtr, retSize));
}

/// <summary>Minimal factory over the capturing provider (no Microsoft.Extensions.Logging dependency).</summary>
internal sealed class CapturingLoggerFactory(CapturingLoggerProvider provider) : ILoggerFactory
{
    public void AddProvider(ILoggerProvider p) { }

    public ILogger CreateLogger(string categoryName) => provider.CreateLogger(categoryName);

    public void Dispose() { }
}

/// <summary>Captures log lines for assertions.</summary>
internal sealed class CapturingLoggerProvider : ILoggerProvider
{
    public ConcurrentQueue<(string Category, LogLevel Level, string Message)> Entries { get; } = new();

    public IEnumerable<string> Messages(LogLevel? level = null) => Entries.Where(e => level is null || e.Level == level).Select(e => e.Message);

    public bool Contains(string text, LogLevel? level = null) => Messages(level).Any(m => m.Contains(text, StringComparison.Ordinal));

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose() { }

    private sealed class Logger(CapturingLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            => owner.Entries.Enqueue((category, logLevel, formatter(state, exception)));
    }
}
