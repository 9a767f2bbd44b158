using System.Text;
using ProxyWasm.Abi;
using ProxyWasm.Http;
using ProxyWasm.Runtime;

namespace ProxyWasm.Contexts;

/// <summary>
/// State the ABI layer acts on: one guest context (root or HTTP stream) inside one VM. Host functions resolve
/// it from Store data (<c>vm.Active</c> = effective ?? current), never from ambient state. All members are
/// called only while the owning VM's gate is held.
/// </summary>
internal abstract class ContextBase
{
    private Dictionary<string, byte[]>? _customProperties;

    protected ContextBase(WasmVm vm, int id)
    {
        Vm = vm;
        Id = id;
    }

    public WasmVm Vm { get; }

    public int Id { get; }

    /// <summary>The root (plugin) context this context belongs to (itself for a root).</summary>
    public abstract RootContext Root { get; }

    /// <summary>The stream context, or null for root contexts.</summary>
    public virtual StreamContext? Stream => null;

    /// <summary>Header map of <paramref name="type"/>; null when not available in this context.</summary>
    public virtual IHeaderMap? GetMap(MapType type) => type switch
    {
        MapType.HttpCallResponseHeaders => Root.CallResponseHeaders,
        MapType.HttpCallResponseTrailers => Root.CallResponseTrailers,
        _ => null,
    };

    /// <summary>Whether a map of this type may be modified (HTTP-call response maps are read-only).</summary>
    public static bool IsWritable(MapType type) => type <= MapType.HttpResponseTrailers;

    /// <summary>Readable bytes of buffer <paramref name="type"/>; NOT_FOUND when not available now.</summary>
    public virtual WasmResult GetBuffer(BufferType type, out ReadOnlySpan<byte> bytes)
    {
        bytes = default;
        switch (type)
        {
            case BufferType.VmConfiguration:
                bytes = Vm.Config.VmConfiguration.Span;
                return WasmResult.Ok;
            case BufferType.PluginConfiguration:
                bytes = Vm.Config.Configuration.Span;
                return WasmResult.Ok;
            case BufferType.HttpCallResponseBody when Root.CallResponse is { } response:
                bytes = response.Body.Span;
                return WasmResult.Ok;
            default:
                return WasmResult.NotFound;
        }
    }

    /// <summary>Writable body buffer of <paramref name="type"/>; null when not writable here.</summary>
    public virtual BodyBuffer? GetWritableBuffer(BufferType type) => null;

    /// <summary>Property lookup order: plugin_* → values set by this context → providers → built-ins.</summary>
    public bool TryGetProperty(string path, out ReadOnlyMemory<byte> value)
    {
        switch (path)
        {
            case "plugin_name": value = Encoding.UTF8.GetBytes(Vm.Config.Name); return true;
            // ngx_wasm_module answers the root context's id (decimal); with its encoding and no configured root id, so do we
            case "plugin_root_id" when Vm.Config.PropertyEncoding == PropertyEncoding.Text && Vm.Config.RootId.Length == 0:
                value = Encoding.ASCII.GetBytes(Root.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)); return true;
            case "plugin_root_id": value = Encoding.UTF8.GetBytes(Vm.Config.RootId); return true;
            case "plugin_vm_id": value = Encoding.UTF8.GetBytes(Vm.Config.VmId); return true;
        }
        if (_customProperties is not null && _customProperties.TryGetValue(path, out var stored)) { value = stored; return true; }
        var encoding = Vm.Config.PropertyEncoding;
        if (Stream?.Host.Properties is { } streamProvider && streamProvider.TryGetProperty(path, encoding, out value)) return true;
        if (Vm.Config.Properties is { } pluginProvider && pluginProvider.TryGetProperty(path, encoding, out value)) return true;
        if (Stream is { } s && BuiltinProperties.TryGet(s.Host, path, encoding, out value)) return true;
        value = default;
        return false;
    }

    /// <summary>Envoy semantics: providers first, else stored per stream context; root contexts answer NOT_FOUND.</summary>
    public WasmResult SetProperty(string path, ReadOnlySpan<byte> value)
    {
        if (Stream?.Host.Properties is { } p && p.TrySetProperty(path, value)) return WasmResult.Ok;
        if (Vm.Config.Properties is { } pp && pp.TrySetProperty(path, value)) return WasmResult.Ok;
        if (Stream is null) return WasmResult.NotFound;
        (_customProperties ??= new(StringComparer.Ordinal))[path] = value.ToArray();
        return WasmResult.Ok;
    }
}
