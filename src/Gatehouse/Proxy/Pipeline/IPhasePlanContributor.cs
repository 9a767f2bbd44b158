using Gatehouse.Model;

namespace Gatehouse.Proxy.Pipeline;

/// <summary>
/// THE extension point for plugins and Wasm filter chains: registered in DI (<c>services.AddSingleton&lt;
/// IPhasePlanContributor, X&gt;()</c>), called when a new <see cref="GatewayConfig"/> is compiled — once for the
/// global plan (<paramref name="route"/> null: rewrite phase and unmatched requests) and once per route. A
/// contributor adds the handlers that apply (global ones too, in each route call), in execution order.
/// Contributors run in DI registration order. Runs off the request path; may allocate freely.
/// </summary>
public interface IPhasePlanContributor
{
    void Contribute(GatewayConfig config, RouteModel? route, ServiceModel? service, PhasePlanBuilder builder);
}
