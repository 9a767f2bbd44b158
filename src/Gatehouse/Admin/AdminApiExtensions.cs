using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;

namespace Gatehouse.Admin;

/// <summary>CONTRACT STUB (owned by the store/admin work): maps every Admin API endpoint.</summary>
public static class AdminApiExtensions
{
    public static IEndpointRouteBuilder MapAdminApi(this IEndpointRouteBuilder endpoints) => endpoints;
}
