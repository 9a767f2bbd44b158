namespace ProxyWasm.Shared;

/// <summary>Receives "an item was enqueued" for a queue it registered; implemented by the VM, which posts the callback.</summary>
internal interface IQueueOwner
{
    void NotifyQueueReady(int rootContextId, uint token);
}
