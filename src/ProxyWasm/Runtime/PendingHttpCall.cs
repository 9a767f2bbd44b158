using ProxyWasm.Contexts;

namespace ProxyWasm.Runtime;

/// <summary>An HTTP callout in flight: owned by <see cref="Root"/>, issued while <see cref="Origin"/> was active.</summary>
internal sealed record PendingHttpCall(uint Token, RootContext Root, StreamContext? Origin, CancellationTokenSource Cancellation);
