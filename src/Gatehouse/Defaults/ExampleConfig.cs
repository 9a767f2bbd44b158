using Gatehouse.Config;

namespace Gatehouse.Defaults;

/// <summary>
/// <c>gatehouse start --example</c>: DB-less with the shipped <c>Defaults/kong.yml</c>, wasm on and
/// <c>wasm_filters_path</c> = the example filters copied next to the executable (<c>Defaults/filters</c>).
/// Everything else (listeners, prefix, logging) comes from the usual conf/env/defaults.
/// </summary>
public static class ExampleConfig
{
    public static string Directory => Path.Combine(AppContext.BaseDirectory, "Defaults");

    public static GatehouseOptions Apply(GatehouseOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options with
        {
            Database = DatabaseKind.Off,
            DeclarativeConfig = Path.Combine(Directory, "kong.yml"),
            Wasm = true,
            WasmFiltersPath = Path.Combine(Directory, "filters"),
            WasmFilters = ["user"],
        };
    }
}
