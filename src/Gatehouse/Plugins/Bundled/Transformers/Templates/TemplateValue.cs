namespace Gatehouse.Plugins.Bundled.Transformers.Templates;

/// <summary>What a template lookup yields, typed as in Kong's Lua: nil, a string, a boolean (a query flag such as
/// <c>?debug</c> or a shared bool) or a table (a repeated header or query argument, a non-scalar shared value).
/// Only nil, false and strings can be rendered; the rest fails like Lua's concatenation does.</summary>
internal readonly record struct TemplateValue(TemplateValueKind Kind, string? Text)
{
    public static TemplateValue Nil => new(TemplateValueKind.Nil, null);
    public static TemplateValue False => new(TemplateValueKind.False, null);
    public static TemplateValue True => new(TemplateValueKind.True, null);
    public static TemplateValue Table => new(TemplateValueKind.Table, null);

    public static TemplateValue String(string text) => new(TemplateValueKind.String, text);

    public bool IsTruthy => Kind is not (TemplateValueKind.Nil or TemplateValueKind.False);

    /// <summary>pl.template's <c>(expr or '')</c> joined with the text around it.</summary>
    public string Render() => Kind switch
    {
        TemplateValueKind.String => Text!,
        TemplateValueKind.Nil or TemplateValueKind.False => "",
        TemplateValueKind.True => throw new TemplateRenderException("attempt to concatenate a boolean value"),
        _ => throw new TemplateRenderException("attempt to concatenate a table value"),
    };
}

internal enum TemplateValueKind { Nil, False, True, String, Table }

/// <summary>A template that cannot be rendered for this request (Kong: a Lua error, answered 500).</summary>
internal sealed class TemplateRenderException(string message) : Exception(message)
{
    /// <summary>The template being rendered (set by <see cref="ValueTemplate.Render"/>).</summary>
    public string? Template { get; init; }
}
