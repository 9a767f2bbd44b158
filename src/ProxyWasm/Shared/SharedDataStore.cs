using ProxyWasm.Abi;

namespace ProxyWasm.Shared;

/// <summary>
/// Process-wide key/value store behind <c>proxy_get/set_shared_data</c>, scoped by vm_id, with Envoy CAS
/// semantics (spec §5.2): one global CAS counter starting at 1, bumped on every successful set (skipping 0);
/// <c>cas == 0</c> ⇒ unconditional; key absent ⇒ set succeeds whatever the cas. Extension (ngx): a set with a
/// null value pointer deletes the key.
/// </summary>
internal sealed class SharedDataStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Dictionary<string, Entry>> _byVmId = new(StringComparer.Ordinal);
    private uint _nextCas = 1;

    private readonly record struct Entry(byte[] Value, uint Cas);

    public WasmResult Get(string vmId, string key, out byte[] value, out uint cas)
    {
        lock (_gate)
        {
            if (_byVmId.TryGetValue(vmId, out var map) && map.TryGetValue(key, out var e))
            {
                value = e.Value;
                cas = e.Cas;
                return WasmResult.Ok;
            }
        }
        value = [];
        cas = 0;
        return WasmResult.NotFound;
    }

    public WasmResult Set(string vmId, string key, byte[]? value, uint cas)
    {
        lock (_gate)
        {
            if (!_byVmId.TryGetValue(vmId, out var map))
            {
                map = new Dictionary<string, Entry>(StringComparer.Ordinal);
                _byVmId[vmId] = map;
            }
            if (cas != 0 && map.TryGetValue(key, out var existing) && existing.Cas != cas) return WasmResult.CasMismatch;
            if (value is null)
            {
                map.Remove(key);
                return WasmResult.Ok;
            }
            uint next = _nextCas++;
            if (_nextCas == 0) _nextCas = 1;
            map[key] = new Entry(value, next);
            return WasmResult.Ok;
        }
    }
}
