using System.Globalization;
using System.Text;

namespace Gatehouse.Plugins.Bundled.Transformers.Templates;

/// <summary>
/// One <c>$(…)</c> expression of request-transformer's templates, limited to what Kong users write — Gatehouse
/// does not embed Lua: a lookup in <c>headers</c>, <c>query_params</c>, <c>uri_captures</c> or <c>shared</c>
/// (<c>.name</c>, <c>["name"]</c>, <c>['name']</c> or <c>[1]</c>), a string or number literal, parentheses, and
/// <c>a or b</c> (Lua's: <c>b</c> when <c>a</c> is nil or false). <see cref="Parse"/> rejects anything else with a
/// readable reason, so a config that Kong would run as Lua is refused at write time instead.
/// </summary>
internal abstract record TemplateExpression
{
    public static readonly string[] Roots = ["headers", "query_params", "uri_captures", "shared"];

    public abstract TemplateValue Evaluate(TemplateEnvironment env);

    /// <summary>Parses the text between <c>$(</c> and <c>)</c>; throws <see cref="FormatException"/>.</summary>
    public static TemplateExpression Parse(string text)
    {
        var parser = new Parser(text);
        var expr = parser.Or();
        parser.SkipSpace();
        if (!parser.AtEnd) throw parser.Unsupported();
        return expr;
    }

    /// <summary>A string or number literal.</summary>
    public sealed record Literal(string Text) : TemplateExpression
    {
        public override TemplateValue Evaluate(TemplateEnvironment env) => TemplateValue.String(Text);
    }

    /// <summary><c>root.key</c> / <c>root["key"]</c> (string key) or <c>root[n]</c> (number key).</summary>
    public sealed record Lookup(string Root, string? Name, int? Index) : TemplateExpression
    {
        public override TemplateValue Evaluate(TemplateEnvironment env) => env.Lookup(Root, Name, Index);
    }

    public sealed record Or(TemplateExpression Left, TemplateExpression Right) : TemplateExpression
    {
        public override TemplateValue Evaluate(TemplateEnvironment env) =>
            Left.Evaluate(env) is { IsTruthy: true } value ? value : Right.Evaluate(env);
    }

    /// <summary>Roots this expression reads.</summary>
    public IEnumerable<string> RootsUsed() => this switch
    {
        Lookup l => [l.Root],
        Or o => o.Left.RootsUsed().Concat(o.Right.RootsUsed()),
        _ => [],
    };

    private sealed class Parser(string text)
    {
        private int _pos;

        public bool AtEnd => _pos >= text.Length;

        public FormatException Unsupported() => new(
            $"unsupported expression '{text.Trim()}': Gatehouse does not run Lua; a template may use headers.<name>, " +
            "headers[\"<name>\"], query_params.<name>, uri_captures.<name>, uri_captures[<n>], shared.<name>, string " +
            "and number literals, parentheses and 'or'");

        public void SkipSpace()
        {
            while (!AtEnd && char.IsWhiteSpace(text[_pos])) _pos++;
        }

        public TemplateExpression Or()
        {
            var left = Term();
            while (true)
            {
                SkipSpace();
                var save = _pos;
                if (Identifier() != "or")
                {
                    _pos = save;
                    return left;
                }
                left = new Or(left, Term());
            }
        }

        private TemplateExpression Term()
        {
            SkipSpace();
            if (AtEnd) throw Unsupported();
            var c = text[_pos];
            if (c is '"' or '\'') return new Literal(StringLiteral());
            if (char.IsAsciiDigit(c)) return new Literal(Number().ToString(CultureInfo.InvariantCulture));
            if (c == '(')
            {
                _pos++;
                var inner = Or();
                SkipSpace();
                if (AtEnd || text[_pos] != ')') throw Unsupported();
                _pos++;
                return inner;
            }
            var root = Identifier();
            if (root is null || !Roots.Contains(root)) throw Unsupported();
            SkipSpace();
            if (AtEnd) throw Unsupported();
            if (text[_pos] == '.')
            {
                _pos++;
                return new Lookup(root, Identifier() ?? throw Unsupported(), null);
            }
            if (text[_pos] != '[') throw Unsupported();
            _pos++;
            SkipSpace();
            if (AtEnd) throw Unsupported();
            TemplateExpression.Lookup lookup = text[_pos] is '"' or '\''
                ? new Lookup(root, StringLiteral(), null)
                : new Lookup(root, null, char.IsAsciiDigit(text[_pos]) && Number() is var n && n == Math.Floor(n) && n <= int.MaxValue ? (int)n : throw Unsupported());
            SkipSpace();
            if (AtEnd || text[_pos] != ']') throw Unsupported();
            _pos++;
            return lookup;
        }

        private string? Identifier()
        {
            var start = _pos;
            if (AtEnd || !(char.IsAsciiLetter(text[_pos]) || text[_pos] == '_')) return null;
            while (!AtEnd && (char.IsAsciiLetterOrDigit(text[_pos]) || text[_pos] == '_')) _pos++;
            return text[start.._pos];
        }

        private double Number()
        {
            var start = _pos;
            while (!AtEnd && (char.IsAsciiDigit(text[_pos]) || text[_pos] == '.')) _pos++;
            return double.TryParse(text[start.._pos], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var n) ? n : throw Unsupported();
        }

        private string StringLiteral()
        {
            var quote = text[_pos++];
            var sb = new StringBuilder();
            while (!AtEnd && text[_pos] != quote)
            {
                var c = text[_pos++];
                if (c != '\\') { sb.Append(c); continue; }
                if (AtEnd) break;
                var e = text[_pos++];
                sb.Append(e switch { 'n' => '\n', 't' => '\t', 'r' => '\r', _ => e });
            }
            if (AtEnd) throw new FormatException($"unfinished string in '{text.Trim()}'");
            _pos++;
            return sb.ToString();
        }
    }
}
