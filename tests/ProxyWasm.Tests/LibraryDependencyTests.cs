using System.Xml.Linq;
using ProxyWasm.Runtime;
using ProxyWasm.Tests.RealFilters;

namespace ProxyWasm.Tests;

/// <summary>The host library knows nothing of ASP.NET (README: "no ASP.NET"): an embedder brings its own HTTP
/// server through the <c>Http/</c> interfaces, and Gatehouse's adapters live in Gatehouse.</summary>
public sealed class LibraryDependencyTests
{
    [Fact]
    public void The_library_assembly_references_no_AspNetCore_assembly()
    {
        var referenced = typeof(LogRateLimiter).Assembly.GetReferencedAssemblies().Select(a => a.Name!).ToList();
        Assert.Contains("Wasmtime.Dotnet", referenced); // the reading works: the engine it does use is listed
        Assert.DoesNotContain(referenced, name => name.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal));
    }

    [Fact]
    public void The_project_uses_the_plain_sdk_without_the_AspNetCore_framework()
    {
        var project = XDocument.Load(Path.Combine(RealFilterHost.RepositoryRoot, "src", "ProxyWasm", "ProxyWasm.csproj"));
        Assert.Equal("Microsoft.NET.Sdk", project.Root!.Attribute("Sdk")?.Value);
        var references = project.Descendants().Where(e => e.Name.LocalName is "FrameworkReference" or "PackageReference")
            .Select(e => e.Attribute("Include")?.Value ?? "").ToList();
        Assert.NotEmpty(references);
        Assert.DoesNotContain(references, r => r.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal));
    }
}
