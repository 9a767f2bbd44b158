using System.Text;
using ProxyWasm.Http;
using ProxyWasm.Runtime;

namespace ProxyWasm.Tests;

public sealed class WasiTests
{
    private const int Success = 0, BadF = 8, Fault = 21, Inval = 28, NoEnt = 44, NoSys = 52, NotSup = 58;

    private static (TestHost Host, FilterPlugin Plugin, Guest Guest) Start(Dictionary<string, string>? env = null)
    {
        var t = new TestHost();
        var plugin = t.Host.CreatePlugin(t.Load("probe.wat"), new FilterPluginConfig { Name = "wasi", PoolSize = 1, Environment = env ?? new() });
        return (t, plugin, Guest.Root(plugin));
    }

    [Fact]
    public void Fd_write_goes_to_the_log_under_both_module_names()
    {
        var (t, plugin, g) = Start();
        using (t) using (plugin)
        {
            int text = g.Write("out line\n"), iov = g.Alloc(8), ret = g.Alloc(4);
            g.Vm.Memory!.WriteInt32(iov, text);
            g.Vm.Memory!.WriteInt32(iov + 4, 9);
            Assert.Equal(Success, g.Call("wasi_fd_write", 1, iov, 1, ret));
            Assert.Equal(9u, g.U32(ret));
            Assert.Contains(t.Logs.Messages(Microsoft.Extensions.Logging.LogLevel.Information), m => m.EndsWith("out line", StringComparison.Ordinal));
            Assert.Equal(Success, g.Call("wasi_unstable_write", 2, iov, 1, ret));
            Assert.True(t.Logs.Contains("out line", Microsoft.Extensions.Logging.LogLevel.Error));
            Assert.Equal(BadF, g.Call("wasi_fd_write", 5, iov, 1, ret));
            g.Vm.Memory!.WriteInt32(iov, 0x7fff_fff0);
            Assert.Equal(Fault, g.Call("wasi_fd_write", 1, iov, 1, ret));
        }
    }

    [Fact]
    public void Fd_write_fragments_are_joined_into_lines_and_flushed_at_the_end_of_the_callback()
    {
        var (t, plugin, g) = Start();
        using (t) using (plugin)
        {
            int a = g.Write("panicked at "), b = g.Write("'boom'\nsecond"), iov = g.Alloc(16), ret = g.Alloc(4);
            g.Vm.Memory!.WriteInt32(iov, a);
            g.Vm.Memory!.WriteInt32(iov + 4, 12);
            g.Vm.Memory!.WriteInt32(iov + 8, b);
            g.Vm.Memory!.WriteInt32(iov + 12, 13);
            Assert.Equal(Success, g.Call("wasi_fd_write", 2, iov, 2, ret)); // two fragments, the line ends in the second
            Assert.Equal(25u, g.U32(ret));
            var errors = t.Logs.Messages(Microsoft.Extensions.Logging.LogLevel.Error).Where(m => m.StartsWith("[wasi#", StringComparison.Ordinal)).ToList();
            Assert.Contains(errors, m => m.EndsWith("] panicked at 'boom'", StringComparison.Ordinal)); // one line from two writes
            Assert.DoesNotContain(errors, m => m.EndsWith("] panicked at ", StringComparison.Ordinal));
            Assert.Contains(errors, m => m.EndsWith("] second", StringComparison.Ordinal)); // partial line flushed at call end
        }
    }

    [Fact]
    public void Clocks_random_args_environ_and_stubs()
    {
        var (t, plugin, g) = Start(new() { ["KEY1"] = "VALUE1" });
        using (t) using (plugin)
        {
            int ret = g.Alloc(16);
            Assert.Equal(Success, g.TryCall("wasi_clock_time_get", 0, 1L, ret));
            var now = (ulong)(DateTimeOffset.UtcNow - DateTimeOffset.UnixEpoch).Ticks * 100;
            Assert.InRange(g.U64(ret), now - 60_000_000_000UL, now + 1_000_000_000UL);
            Assert.Equal(Success, g.TryCall("wasi_clock_time_get", 1, 1L, ret));
            Assert.Equal(NotSup, g.TryCall("wasi_clock_time_get", 2, 1L, ret));
            Assert.Equal(Success, g.Call("wasi_clock_res_get", 1, ret));
            int buf = g.Alloc(64);
            Assert.Equal(Success, g.Call("wasi_random_get", buf, 64));
            Assert.NotEqual(new byte[64], g.Bytes(buf, 64));
            Assert.Equal(Success, g.Call("wasi_random_get", buf, 0));
            int big = g.Alloc(65536);
            Assert.Equal(Success, g.Call("wasi_random_get", big, 65536));
            Assert.Equal(Inval, g.Call("wasi_random_get", buf, 65 * 1024 + 1));
            Assert.Equal(Success, g.Call("wasi_args_sizes_get", ret, ret + 4));
            Assert.Equal(0u, g.U32(ret));
            Assert.Equal(0u, g.U32(ret + 4));
            Assert.Equal(Success, g.Call("wasi_environ_sizes_get", ret, ret + 4));
            Assert.Equal(1u, g.U32(ret));
            Assert.Equal(12u, g.U32(ret + 4));
            int ptrs = g.Alloc(4), envBuf = g.Alloc(12);
            Assert.Equal(Success, g.Call("wasi_environ_get", ptrs, envBuf));
            Assert.Equal("KEY1=VALUE1\0", Encoding.UTF8.GetString(g.Bytes((int)g.U32(ptrs), 12)));
            Assert.Equal(Success, g.Call("wasi_sched_yield"));
            Assert.Equal(Success, g.Call("wasi_poll_oneoff", 0, 0, 0, ret));
            Assert.Equal(0u, g.U32(ret));
            Assert.Equal(BadF, g.Call("wasi_fd_prestat_get", 3, ret));
            Assert.Equal(NoSys, g.Call("wasi_fd_read", 0, 0, 0, ret));
            Assert.Equal(NoEnt, g.TryCall("wasi_path_open", 3, 0, 0, 0, 0, 0L, 0L, 0, ret));
            Assert.Equal(NoSys, g.Call("wasi_sock_send", 0, 0, 0, 0, 0));
            Assert.Equal(Success, g.Call("wasi_fd_fdstat_get", 1, buf));
            Assert.Equal(BadF, g.Call("wasi_fd_fdstat_get", 7, buf));
        }
    }

    [Fact]
    public void Proc_exit_zero_outside_start_up_is_a_trap()
    {
        var (t, plugin, g) = Start();
        using (t) using (plugin)
        {
            Assert.False(g.Vm.IsDead);
            Assert.Null(g.TryCall("wasi_proc_exit", 0));
            Assert.True(g.Vm.IsDead);
            Assert.Contains("proc_exit(0)", g.Vm.DeathReason);
        }
    }

    [Fact]
    public async Task Proc_exit_zero_ends_start_up_normally_but_fails_a_request()
    {
        using var t = new TestHost();
        using var plugin = t.Plugin("command.wat");
        Assert.Equal(1, plugin.LiveVmCount);
        Assert.True(t.Logs.Contains("started"));
        using var http = plugin.CreateHttpContext(new InMemoryHttpStream());
        var outcome = await http.OnRequestHeadersAsync(true);
        Assert.Equal(FilterOutcomeKind.Failed, outcome.Kind);
        Assert.Contains("proc_exit(0)", outcome.Error);
    }
}
