using ProxyWasm.Contexts;
using ProxyWasm.Http;
using ProxyWasm.Runtime;

namespace ProxyWasm.Bench;

/// <summary>One started plugin (pool of one VM) on a module of Modules/, with one open HTTP context — the shared set-up of the benchmark classes.</summary>
internal sealed class ModuleFixture : IDisposable
{
    public ModuleFixture(string moduleFile, InMemoryHttpStream stream)
    {
        Host = new WasmHost();
        var name = Path.GetFileNameWithoutExtension(moduleFile);
        Module = Host.LoadModule(name, Path.Combine(AppContext.BaseDirectory, "Modules", moduleFile));
        Plugin = Host.CreatePlugin(Module, new FilterPluginConfig { Name = name, PoolSize = 1 });
        Stream = stream;
        Context = Plugin.CreateHttpContext(stream);
        Vm = Plugin.Vms[0];
    }

    public WasmHost Host { get; }

    public FilterModule Module { get; }

    public FilterPlugin Plugin { get; }

    public InMemoryHttpStream Stream { get; }

    public HttpFilterContext Context { get; }

    public WasmVm Vm { get; }

    public void Dispose()
    {
        Context.Dispose();
        Plugin.Dispose();
        Module.Dispose();
        Host.Dispose();
    }
}
