using System.Globalization;
using Microsoft.Extensions.Logging;
using ProxyWasm.Http;

namespace ProxyWasm.Tests.RealFilters;

/// <summary><c>filters/test/wasi.wasm</c>: every documented result header (README "wasi"), abi doc §3.</summary>
public sealed class WasiFilterTests
{
    private const string Wasi = "filters/test/wasi.wasm";

    private static readonly Dictionary<string, string> Env = new() { ["GATEHOUSE_MODE"] = "test", ["Region"] = "eu-1" };

    [Fact]
    public async Task Every_wasi_call_answers_as_documented()
    {
        using var h = new RealFilterHost();
        var p = h.Start(Wasi, "", new PluginOptions { Environment = Env });
        long before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000;

        var x = await h.SendAsync(p, RequestSpec.Get());
        var y = await h.SendAsync(p, RequestSpec.Get());

        long after = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000;
        Assert.Equal(FilterOutcome.Continue, x.Final);
        Assert.Equal("0", x.ResponseHeader("x-wasi-stdout-errno"));
        Assert.Equal("0", x.ResponseHeader("x-wasi-stderr-errno"));
        Assert.Equal("8", x.ResponseHeader("x-wasi-badfd-errno")); // BADF
        long realtime = Long(x, "x-wasi-realtime-ns");
        Assert.InRange(realtime, before - 1_000_000_000, after + 1_000_000_000);
        Assert.Null(x.ResponseHeader("x-wasi-realtime-errno"));
        Assert.True(Long(y, "x-wasi-monotonic-ns") >= Long(x, "x-wasi-monotonic-ns"));
        Assert.True(Long(x, "x-wasi-monotonic-ns") > 0);
        Assert.Matches("^[0-9a-f]{32}$", x.ResponseHeader("x-wasi-random"));
        Assert.NotEqual(x.ResponseHeader("x-wasi-random"), y.ResponseHeader("x-wasi-random"));
        Assert.Equal("28", x.ResponseHeader("x-wasi-random-large-errno")); // INVAL above 64 KiB
        Assert.Equal("0", x.ResponseHeader("x-wasi-environ-errno"));
        Assert.Equal("2", x.ResponseHeader("x-wasi-environ-count"));
        Assert.Equal(Env.Sum(kv => kv.Key.Length + kv.Value.Length + 2).ToString(CultureInfo.InvariantCulture), x.ResponseHeader("x-wasi-environ-size"));
        Assert.Equal("test", x.ResponseHeader("x-wasi-env-gatehouse_mode"));
        Assert.Equal("eu-1", x.ResponseHeader("x-wasi-env-region"));
        Assert.Equal("0", x.ResponseHeader("x-wasi-args-count"));
        Assert.Null(x.ResponseHeader("x-wasi-args-errno"));
    }

    [Fact]
    public async Task The_host_environment_is_never_exposed()
    {
        using var h = new RealFilterHost();
        var p = h.Start(Wasi);
        var x = await h.SendAsync(p, RequestSpec.Get());
        Assert.Equal("0", x.ResponseHeader("x-wasi-environ-count"));
        Assert.Equal("0", x.ResponseHeader("x-wasi-environ-size"));
        Assert.DoesNotContain(x.Stream.ResponseHeaders, kv => kv.Key.StartsWith("x-wasi-env-", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Stdout_and_stderr_become_info_and_error_log_lines()
    {
        using var h = new RealFilterHost();
        var p = h.Start(Wasi);
        Assert.Contains(h.Logs.Filter("wasi"), l => l.Text == "wasi: configure on stdout" && l.Level == LogLevel.Information);
        await h.SendAsync(p, RequestSpec.Get());
        var lines = h.Logs.Filter("wasi");
        Assert.Contains(lines, l => l.Text == "wasi: hello from stdout" && l.Level == LogLevel.Information);
        Assert.Contains(lines, l => l.Text == "wasi: hello from stderr" && l.Level == LogLevel.Error);
        Assert.DoesNotContain(lines, l => l.Text.Contains("nobody listens", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Proc_exit_in_a_request_fails_it_and_the_vm_is_replaced()
    {
        using var h = new RealFilterHost();
        var p = h.Start(Wasi);
        var x = await h.SendAsync(p, RequestSpec.Get("/", ("x-wasi-exit", "5")));
        Assert.Equal(FilterOutcomeKind.Failed, x.Final.Kind);
        Assert.Contains("5", x.Final.Error);
        var next = await h.SendAsync(p, RequestSpec.Get());
        Assert.Equal(FilterOutcome.Continue, next.Final);
        Assert.Equal("0", next.ResponseHeader("x-wasi-stdout-errno"));
        // the first VM and its replacement; a third when the next request came before the background replacement
        // was idle (it then starts its own VM rather than wait), which the timing may or may not give
        Assert.InRange(RealFilterHost.VmsCreated(p), 2, 3);
    }

    [Fact]
    public void Proc_exit_with_a_non_zero_code_in_configure_rejects_the_configuration()
    {
        using var h = new RealFilterHost();
        var result = h.Validate(Wasi, """{"exit_on_configure":2}""");
        Assert.False(result.Success);
        Assert.Equal("on_configure", result.Stage);
    }

    private static long Long(FilterExchange x, string header)
        => long.Parse(x.ResponseHeader(header) ?? throw new Xunit.Sdk.XunitException($"missing {header}"), CultureInfo.InvariantCulture);
}
