using System.Collections.Concurrent;
using ProxyWasm.Abi;

namespace ProxyWasm.Shared;

/// <summary>
/// Process-wide shared queues (spec §5.3): <c>register(vm_id, name)</c> returns a stable token (from 1) and makes
/// the calling root context the owner; <c>enqueue</c> notifies the owner through <see cref="IQueueOwner"/>, which
/// posts <c>proxy_on_queue_ready</c> to the owning VM. Re-registering (e.g. by a recreated VM) moves ownership,
/// except from a scratch (validation) VM, which gets the token but never takes the queue from its running owner.
/// </summary>
internal sealed class SharedQueueRegistry
{
    private readonly Lock _gate = new();
    private readonly Dictionary<(string VmId, string Name), uint> _tokens = new();
    private readonly ConcurrentDictionary<uint, Queue> _queues = new();
    private uint _nextToken = 1;

    private sealed class Queue
    {
        public readonly ConcurrentQueue<byte[]> Items = new();
        public volatile IQueueOwner? Owner;
        public int OwnerRootId;
    }

    public uint Register(string vmId, string name, IQueueOwner owner, int rootContextId, bool takeOwnership = true)
    {
        lock (_gate)
        {
            if (!_tokens.TryGetValue((vmId, name), out var token))
            {
                token = _nextToken++;
                _tokens[(vmId, name)] = token;
                _queues[token] = new Queue();
            }
            if (!takeOwnership) return token;
            var q = _queues[token];
            q.OwnerRootId = rootContextId;
            q.Owner = owner;
            return token;
        }
    }

    public WasmResult Resolve(string vmId, string name, out uint token)
    {
        lock (_gate)
        {
            return _tokens.TryGetValue((vmId, name), out token) ? WasmResult.Ok : WasmResult.NotFound;
        }
    }

    public WasmResult Enqueue(uint token, byte[] value)
    {
        if (!_queues.TryGetValue(token, out var q)) return WasmResult.NotFound;
        q.Items.Enqueue(value);
        q.Owner?.NotifyQueueReady(q.OwnerRootId, token);
        return WasmResult.Ok;
    }

    public WasmResult Dequeue(uint token, out byte[] value)
    {
        value = [];
        if (!_queues.TryGetValue(token, out var q)) return WasmResult.NotFound;
        return q.Items.TryDequeue(out value!) ? WasmResult.Ok : WasmResult.Empty;
    }
}
