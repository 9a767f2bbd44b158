using Gatehouse.Plugins;
using Gatehouse.Plugins.Bundled.Transformers.Templates;
using Gatehouse.Proxy.Pipeline;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Tests.Plugins;

/// <summary>request-transformer's template language on its own: Penlight's reading of <c>$(…)</c>, Lua's
/// <c>or</c> and nil/false/table rules, and the expressions refused because Gatehouse does not run Lua.</summary>
public sealed class TemplateLanguageTests
{
    private static TemplateEnvironment Env(Action<HttpContext>? setup = null, Action<IDictionary<string, object?>>? shared = null)
    {
        var http = new DefaultHttpContext();
        setup?.Invoke(http);
        var kong = Kong.For(new ProxyContext(http, TimeProvider.System));
        shared?.Invoke(kong.Ctx);
        return new TemplateEnvironment(kong, headers: true, query: true);
    }

    private static string Render(string template, TemplateEnvironment env) => ValueTemplate.Parse(template).Render(env);

    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("a$(b", "a$(b")]                                   // unbalanced: text
    [InlineData("$( $(query_params.q)", "$( v")]                   // the first '$(' never closes; the second is an expression
    [InlineData("$('$(query_params.q)')", "$(query_params.q)")]   // Kong's way to write a literal $(…)
    [InlineData("\\$(query_params.q)", "\\v")]                     // no escape character: backslash, then the value
    [InlineData("[$(query_params.none)]", "[]")]                   // nil renders empty
    [InlineData("$((query_params.none or query_params.q) or 'z')", "v")]
    [InlineData("$(query_params.none or 10)", "10")]
    [InlineData("$(headers.x_foo)-$(headers[\"X-FOO\"])-$(headers['x-foo'])", "h-h-h")]
    [InlineData("$(shared.n)/$(shared.off or 'd')/$(shared.s)", "42/d/text")]
    public void Renders_as_kongs_templates(string template, string expected)
    {
        var env = Env(h =>
        {
            h.Request.QueryString = new QueryString("?q=v");
            h.Request.Headers["X-Foo"] = "h";
        }, s =>
        {
            s["n"] = 42;
            s["off"] = false;
            s["s"] = "text";
        });
        Assert.Equal(expected, Render(template, env));
    }

    [Theory]
    [InlineData("$(query_params.m)", "attempt to concatenate a table value")]
    [InlineData("$(shared.on)", "attempt to concatenate a boolean value")]
    [InlineData("$(shared.on or 'x')", "attempt to concatenate a boolean value")]
    [InlineData("$(shared.list)", "attempt to concatenate a table value")]
    public void Values_lua_cannot_concatenate_fail_to_render(string template, string message)
    {
        var env = Env(h => h.Request.QueryString = new QueryString("?m=1&m=2"), s =>
        {
            s["on"] = true;
            s["list"] = new[] { "a" };
        });
        var e = Assert.Throws<TemplateRenderException>(() => Render(template, env));
        Assert.Equal(message, e.Message);
        Assert.Equal(template, e.Template);
    }

    [Theory]
    [InlineData("$(type(headers))")]
    [InlineData("$(headers)")]
    [InlineData("$(headers.a.b)")]
    [InlineData("$(headers.a .. 'x')")]
    [InlineData("$(1 + 2)")]
    [InlineData("$(ngx.var.uri)")]
    [InlineData("$(headers.a or)")]
    [InlineData("$(uri_captures[1.5])")]
    [InlineData("$('unfinished)")]
    public void Expressions_beyond_the_subset_are_refused(string template) =>
        Assert.Throws<FormatException>(() => ValueTemplate.Parse(template));
}
