using System.Text;

namespace Gatehouse.Plugins.Bundled.Transformers.Templates;

/// <summary>
/// A request-transformer value with <c>$(…)</c> expressions, read as Penlight's templates read it (Kong compiles
/// values with <c>pl.template</c>): <c>$</c> followed by balanced parentheses is an expression, anything else —
/// including an unbalanced <c>$(</c> — is text; a nil or false result renders empty. Kong has no escape character:
/// a literal <c>$(…)</c> is written as a string expression, <c>$('$(…)')</c>.
/// </summary>
internal sealed class ValueTemplate
{
    private readonly object[] _segments; // string or TemplateExpression

    private readonly string _source;

    private ValueTemplate(string source, object[] segments)
    {
        _source = source;
        _segments = segments;
    }

    public bool HasExpressions => _segments.Any(s => s is TemplateExpression);

    /// <summary>Roots the expressions read (to snapshot only what is needed).</summary>
    public IEnumerable<string> RootsUsed => _segments.OfType<TemplateExpression>().SelectMany(e => e.RootsUsed());

    /// <summary>Parses <paramref name="text"/>; throws <see cref="FormatException"/> for an unsupported expression.</summary>
    public static ValueTemplate Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var segments = new List<object>();
        var literal = new StringBuilder();
        var pos = 0;
        while (pos < text.Length)
        {
            var at = text.IndexOf("$(", pos, StringComparison.Ordinal);
            if (at < 0)
            {
                literal.Append(text, pos, text.Length - pos);
                break;
            }
            var close = Balanced(text, at + 1);
            if (close < 0) // not an expression: the '$' is text, look further on
            {
                literal.Append(text, pos, at + 1 - pos);
                pos = at + 1;
                continue;
            }
            literal.Append(text, pos, at - pos);
            if (literal.Length > 0) segments.Add(literal.ToString());
            literal.Clear();
            segments.Add(TemplateExpression.Parse(text[(at + 2)..close]));
            pos = close + 1;
        }
        if (literal.Length > 0) segments.Add(literal.ToString());
        return new ValueTemplate(text, [.. segments]);
    }

    /// <summary>Lua's <c>%b()</c>: the index of the parenthesis closing the one at <paramref name="open"/>.</summary>
    private static int Balanced(string text, int open)
    {
        var depth = 0;
        for (var i = open; i < text.Length; i++)
        {
            if (text[i] == '(') depth++;
            else if (text[i] == ')' && --depth == 0) return i;
        }
        return -1;
    }

    /// <summary>Renders for one request; throws <see cref="TemplateRenderException"/> (naming this template) where
    /// Lua would fail.</summary>
    public string Render(TemplateEnvironment env)
    {
        var sb = new StringBuilder();
        try
        {
            foreach (var segment in _segments)
                sb.Append(segment as string ?? ((TemplateExpression)segment).Evaluate(env).Render());
        }
        catch (TemplateRenderException e) when (e.Template is null)
        {
            throw new TemplateRenderException(e.Message) { Template = _source };
        }
        return sb.ToString();
    }
}
