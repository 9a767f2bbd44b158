using System.Text;
using System.Text.RegularExpressions;
using Gatehouse.Tests.Wasm;

namespace Gatehouse.Tests;

/// <summary>
/// Dependencies between the folders of <c>src/Gatehouse</c> run one way: a folder uses only folders of lower layers
/// (<see cref="Layers"/>, the one table; the README's source map names it). Read from the sources: <c>using</c>
/// directives and every <c>Gatehouse.X.</c> or, inside <c>namespace Gatehouse.*</c>, <c>X.Type</c> reference in code
/// (comments and strings skipped), so a back-edge fails with the file, line and edge.
/// </summary>
public sealed partial class StructureTests
{
    /// <summary>Bottom first. Folders of one layer do not use each other (Plugins and Wasm: neither knows the other).
    /// Routing sits below Entities: a route's regex path is validated by the router's own compiler. Defaults is data
    /// the CLI embeds. The root namespace is outside the table: Program (the entry point) may use any folder, and
    /// GatehouseVersion is a constant every folder may read.</summary>
    internal static readonly string[][] Layers =
    [
        ["Model", "Config"],
        ["Routing"],
        ["Entities", "Defaults"],
        ["Store"],
        ["Proxy"],
        ["Plugins", "Wasm"],
        ["Admin"],
        ["Manager"],
        ["Hosting"],
        ["Cli"],
    ];

    private const string Root = "(root)";

    private static string SourceDir => Path.Combine(WasmPaths.Repo, "src", "Gatehouse");

    private static int Rank(string folder) =>
        folder == Root ? Layers.Length : Array.FindIndex(Layers, layer => layer.Contains(folder));

    [Fact]
    public void No_folder_uses_a_folder_of_its_own_or_a_higher_layer()
    {
        var sources = Sources();
        Assert.True(sources.Count > 100, $"only {sources.Count} sources found under {SourceDir}");
        var violations = new List<string>();
        foreach (var (file, folder, line, target, how) in References(sources))
        {
            if (Rank(target) < Rank(folder)) continue;
            violations.Add($"{file}:{line}: {folder} -> {target} ({how}); {target} is not below {folder} in StructureTests.Layers");
        }
        Assert.True(violations.Count == 0, "back-edges between folders:\n" + string.Join("\n", violations));
    }

    [Fact]
    public void Every_folder_is_in_the_layer_table_and_every_file_in_its_folders_namespace()
    {
        var problems = new List<string>();
        foreach (var source in Sources())
        {
            if (source.Folder != Root && Rank(source.Folder) < 0)
                problems.Add($"{source.File}: folder {source.Folder} has no layer in StructureTests.Layers");
            // a file declaring another folder's namespace would use that folder's types without any reference
            foreach (Match m in NamespaceDeclaration().Matches(source.Code))
            {
                var declared = m.Groups[1].Value.Split('.');
                var expected = source.Folder == Root ? "Gatehouse" : $"Gatehouse.{source.Folder}";
                if (declared[0] != "Gatehouse" || (source.Folder == Root ? declared.Length != 1 : declared.Length < 2 || declared[1] != source.Folder))
                    problems.Add($"{source.File}: namespace {m.Groups[1].Value} is not {expected}");
            }
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void The_readme_names_the_layers_of_the_table()
    {
        var readme = File.ReadAllText(Path.Combine(WasmPaths.Repo, "README.md"));
        var line = string.Join(" → ", Layers.Select(layer => string.Join(", ", layer)));
        Assert.Contains(line, readme);
    }

    /// <summary>The checker itself: each kind of reference is seen, and comments, strings and members that merely
    /// share a folder's name are not.</summary>
    [Fact]
    public void The_reference_reader_sees_usings_qualified_names_and_folder_relative_names_only_in_code()
    {
        var types = new Dictionary<string, HashSet<string>>
        {
            ["Plugins"] = ["PluginCatalog", "Bundled"], ["Wasm"] = ["WasmFilterCatalog"], ["Admin"] = ["AdminGuard"],
            ["Hosting"] = ["GatewayHost"], ["Store"] = ["StoreCommands"], ["Config"] = ["GatehouseOptions"],
        };
        const string code = """"
            using Gatehouse.Config;
            namespace Gatehouse.Entities;
            // using Gatehouse.Admin;  Gatehouse.Hosting.GatewayHost in a comment
            /* Gatehouse.Store.StoreCommands */
            class A
            {
                string S = "Gatehouse.Admin.AdminGuard"; string R = @"Gatehouse.Hosting.GatewayHost"; char C = '"';
                string T = $"Wasm.WasmFilterCatalog {1}"; string U = """Plugins.PluginCatalog""";
                object P = Gatehouse.Plugins.PluginCatalog.Bundled;
                object W = Wasm.WasmFilterCatalog.Off;
                object B = Plugins.Bundled.X;
                object M = this.Plugins.Count + Config.Unknown;
            }
            """";
        var found = References([new Source("A.cs", "Entities", Blank(code))], types)
            .OrderBy(r => r.Line).Select(r => $"{r.Line}:{r.Target}").ToList();
        Assert.Equal(["1:Config", "9:Plugins", "10:Wasm", "11:Plugins"], found);
    }

    private sealed record Source(string File, string Folder, string Code);

    private static List<Source> Sources()
    {
        var list = new List<Source>();
        foreach (var path in Directory.EnumerateFiles(SourceDir, "*.cs", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(SourceDir, path).Replace('\\', '/');
            if (relative.StartsWith("bin/", StringComparison.Ordinal) || relative.StartsWith("obj/", StringComparison.Ordinal)) continue;
            var slash = relative.IndexOf('/');
            list.Add(new Source("src/Gatehouse/" + relative, slash < 0 ? Root : relative[..slash], Blank(File.ReadAllText(path))));
        }
        return list;
    }

    private static IEnumerable<(string File, string Folder, int Line, string Target, string How)> References(List<Source> sources) =>
        References(sources, DeclaredNames(sources));

    /// <summary>Every reference from a file to another folder: <c>Gatehouse.X</c> anywhere (usings, aliases,
    /// qualified names), and <c>X.Name</c> where <c>Name</c> is a type or namespace declared in folder X (inside
    /// <c>namespace Gatehouse.*</c> that resolves to <c>Gatehouse.X.Name</c>).</summary>
    private static IEnumerable<(string File, string Folder, int Line, string Target, string How)> References(
        List<Source> sources, Dictionary<string, HashSet<string>> declared)
    {
        foreach (var source in sources)
        {
            foreach (Match m in QualifiedReference().Matches(source.Code))
            {
                var target = m.Groups[1].Value;
                if (target != source.Folder && declared.ContainsKey(target))
                    yield return (source.File, source.Folder, LineOf(source.Code, m.Index), target, m.Value);
            }
            foreach (Match m in RelativeReference().Matches(source.Code))
            {
                var (target, name) = (m.Groups[1].Value, m.Groups[2].Value);
                if (target != source.Folder && declared.TryGetValue(target, out var names) && names.Contains(name))
                    yield return (source.File, source.Folder, LineOf(source.Code, m.Index), target, m.Value);
            }
        }
    }

    /// <summary>Per folder: the types it declares and the first segments of its sub-namespaces.</summary>
    private static Dictionary<string, HashSet<string>> DeclaredNames(List<Source> sources)
    {
        var declared = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var source in sources.Where(s => s.Folder != Root))
        {
            if (!declared.TryGetValue(source.Folder, out var names)) declared[source.Folder] = names = new HashSet<string>(StringComparer.Ordinal);
            foreach (Match m in TypeDeclaration().Matches(source.Code)) names.Add(m.Groups["name"].Value);
            foreach (Match m in NamespaceDeclaration().Matches(source.Code))
                if (m.Groups[1].Value.Split('.') is { Length: > 2 } parts) names.Add(parts[2]);
        }
        return declared;
    }

    private static int LineOf(string code, int index)
    {
        var line = 1;
        for (var i = 0; i < index; i++) if (code[i] == '\n') line++;
        return line;
    }

    /// <summary>The code with comments and the contents of string and character literals replaced by spaces (line
    /// breaks kept, so positions and line numbers stay).</summary>
    internal static string Blank(string code)
    {
        var sb = new StringBuilder(code);
        var i = 0;
        void Clear(int from, int to)
        {
            for (var k = from; k < to && k < sb.Length; k++) if (sb[k] != '\n') sb[k] = ' ';
        }
        while (i < code.Length)
        {
            if (code[i] == '/' && i + 1 < code.Length && code[i + 1] == '/')
            {
                var end = code.IndexOf('\n', i);
                end = end < 0 ? code.Length : end;
                Clear(i, end);
                i = end;
            }
            else if (code[i] == '/' && i + 1 < code.Length && code[i + 1] == '*')
            {
                var end = code.IndexOf("*/", i + 2, StringComparison.Ordinal);
                end = end < 0 ? code.Length : end + 2;
                Clear(i, end);
                i = end;
            }
            else if (code[i] == '\'')
            {
                var end = i + 1;
                while (end < code.Length && code[end] != '\'') end += code[end] == '\\' ? 2 : 1;
                Clear(i + 1, end);
                i = end + 1;
            }
            else if (code[i] == '"')
            {
                var verbatim = false;
                for (var k = i - 1; k >= 0 && (code[k] == '@' || code[k] == '$'); k--) verbatim |= code[k] == '@';
                var quotes = 0;
                while (i + quotes < code.Length && code[i + quotes] == '"') quotes++;
                int end;
                if (quotes >= 3)
                {
                    // raw string literal: ends at the same number of quotes
                    end = code.IndexOf(new string('"', quotes), i + quotes, StringComparison.Ordinal);
                    end = end < 0 ? code.Length : end;
                    Clear(i + quotes, end);
                    i = end + quotes;
                    continue;
                }
                end = i + 1;
                while (end < code.Length)
                {
                    if (!verbatim && code[end] == '\\') { end += 2; continue; }
                    if (code[end] == '"')
                    {
                        if (verbatim && end + 1 < code.Length && code[end + 1] == '"') { end += 2; continue; }
                        break;
                    }
                    end++;
                }
                Clear(i + 1, end);
                i = end + 1;
            }
            else i++;
        }
        return sb.ToString();
    }

    [GeneratedRegex(@"(?<![\w.])(?:global::)?Gatehouse\.(\w+)")]
    private static partial Regex QualifiedReference();

    [GeneratedRegex(@"(?<![\w.:])([A-Z]\w*)\.([A-Z]\w*)")]
    private static partial Regex RelativeReference();

    [GeneratedRegex(@"\b(?:class|struct|interface|enum|record)\s+(?:class\s+|struct\s+)?(?<name>[A-Z]\w*)|\bdelegate\s+[\w<>\[\],.? ]+?\s(?<name>[A-Z]\w*)\s*[<(]")]
    private static partial Regex TypeDeclaration();

    [GeneratedRegex(@"^\s*namespace\s+([\w.]+)", RegexOptions.Multiline)]
    private static partial Regex NamespaceDeclaration();
}
