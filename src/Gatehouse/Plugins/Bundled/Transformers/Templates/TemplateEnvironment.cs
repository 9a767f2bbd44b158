using System.Globalization;
using Gatehouse.Routing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Gatehouse.Plugins.Bundled.Transformers.Templates;

/// <summary>
/// request-transformer's template environment for one request: the client's <c>headers</c> and
/// <c>query_params</c> as they were when the plugin started (so templates see a header's old value even when the
/// same plugin removes or replaces it, as in Kong), the route's regex <c>uri_captures</c> and <c>kong.ctx.shared</c>.
/// Headers are looked up as ngx does: case-insensitively, with <c>_</c> read as <c>-</c>.
/// </summary>
internal sealed class TemplateEnvironment
{
    private readonly Dictionary<string, StringValues>? _headers;
    private readonly Dictionary<string, StringValues>? _query;
    private readonly PathCaptures _captures;
    private readonly IDictionary<string, object?> _shared;

    public TemplateEnvironment(Kong kong, bool headers, bool query)
    {
        ArgumentNullException.ThrowIfNull(kong);
        if (headers) _headers = new(kong.Request.Headers, StringComparer.OrdinalIgnoreCase);
        if (query) _query = kong.Request.Query.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        _captures = kong.Context.Captures;
        _shared = kong.Ctx;
    }

    public TemplateValue Lookup(string root, string? name, int? index) => root switch
    {
        "headers" => name is null ? TemplateValue.Nil : Values(_headers, name.Replace('_', '-')),
        "query_params" => name is null ? TemplateValue.Nil : Values(_query, name),
        "uri_captures" => Capture(name, index),
        _ => name is null ? TemplateValue.Nil : Shared(name),
    };

    private static TemplateValue Values(Dictionary<string, StringValues>? source, string name) =>
        source is null || !source.TryGetValue(name, out var values) || values.Count == 0 ? TemplateValue.Nil
        : values.Count > 1 ? TemplateValue.Table
        : TemplateValue.String(values[0] ?? "");

    /// <summary>Kong sets uri_captures only when the route regex has a group; [0] is the whole match.</summary>
    private TemplateValue Capture(string? name, int? index)
    {
        if (_captures.Groups.Count < 2) return TemplateValue.Nil;
        if (name is not null) return _captures.Named.TryGetValue(name, out var v) ? TemplateValue.String(v) : TemplateValue.Nil;
        return index is { } i && i < _captures.Groups.Count && _captures.Groups[i] is { } g ? TemplateValue.String(g) : TemplateValue.Nil;
    }

    private TemplateValue Shared(string name) => _shared.TryGetValue(name, out var value) ? value switch
    {
        null => TemplateValue.Nil,
        string s => TemplateValue.String(s),
        bool b => b ? TemplateValue.True : TemplateValue.False,
        IFormattable f when value is int or long or double or float or decimal or short or byte or uint or ulong =>
            TemplateValue.String(f.ToString(null, CultureInfo.InvariantCulture)),
        _ => TemplateValue.Table,
    } : TemplateValue.Nil;
}
