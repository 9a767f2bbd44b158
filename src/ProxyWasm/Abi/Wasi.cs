using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using ProxyWasm.Runtime;
using Wasmtime;

namespace ProxyWasm.Abi;

/// <summary>
/// WASI preview1 as filters need it (spec §3), defined under both <c>wasi_snapshot_preview1</c> and
/// <c>wasi_unstable</c>: stdout/stderr go to the filter log, clocks and randomness work, environment is the
/// plugin's own, there is no filesystem and no network (those calls answer BADF/NOENT/NOSYS).
/// </summary>
internal static class Wasi
{
    private static readonly string[] NoSysStubs =
    [
        "fd_advise:iIIi>i", "fd_allocate:iII>i", "fd_datasync:i>i", "fd_fdstat_set_rights:iII>i", "fd_filestat_get:ii>i",
        "fd_filestat_set_size:iI>i", "fd_filestat_set_times:iIIi>i", "fd_pread:iiiIi>i", "fd_pwrite:iiiIi>i", "fd_readdir:iiiIi>i",
        "fd_renumber:ii>i", "fd_sync:i>i", "fd_tell:ii>i", "path_create_directory:iii>i", "path_filestat_get:iiiii>i",
        "path_filestat_set_times:iiiiIIi>i", "path_link:iiiiiii>i", "path_readlink:iiiiii>i", "path_remove_directory:iii>i",
        "path_rename:iiiiii>i", "path_symlink:iiiii>i", "path_unlink_file:iii>i", "sock_accept:iii>i", "sock_recv:iiiiii>i",
        "sock_send:iiiii>i", "sock_shutdown:ii>i", "fd_read:iiii>i", "fd_fdstat_set_flags:ii>i", "fd_prestat_dir_name:iii>i",
    ];

    public static IEnumerable<HostFunction> Functions(string m)
    {
        yield return new(m, "fd_write", "iiii>i", AbiVersion.All, FdWrite);
        yield return new(m, "fd_seek", "iIii>i", AbiVersion.All, static (c, a) => (int)WasiErrno.BadF);
        yield return new(m, "fd_close", "i>i", AbiVersion.All, static (c, a) => (uint)a[0].AsInt32() <= 2 ? 0 : (int)WasiErrno.BadF);
        yield return new(m, "fd_fdstat_get", "ii>i", AbiVersion.All, FdStatGet);
        yield return new(m, "fd_prestat_get", "ii>i", AbiVersion.All, static (c, a) => (int)WasiErrno.BadF);
        yield return new(m, "path_open", "iiiiiIIii>i", AbiVersion.All, static (c, a) => (int)WasiErrno.NoEnt);
        yield return new(m, "environ_sizes_get", "ii>i", AbiVersion.All, EnvironSizesGet);
        yield return new(m, "environ_get", "ii>i", AbiVersion.All, EnvironGet);
        yield return new(m, "args_sizes_get", "ii>i", AbiVersion.All, ArgsSizesGet);
        yield return new(m, "args_get", "ii>i", AbiVersion.All, static (c, a) => 0);
        yield return new(m, "clock_time_get", "iIi>i", AbiVersion.All, ClockTimeGet);
        yield return new(m, "clock_res_get", "ii>i", AbiVersion.All, ClockResGet);
        yield return new(m, "random_get", "ii>i", AbiVersion.All, RandomGet);
        yield return new(m, "proc_exit", "i>", AbiVersion.All, static (c, a) => throw new ProcExitException(a[0].AsInt32()));
        yield return new(m, "sched_yield", ">i", AbiVersion.All, static (c, a) => 0);
        yield return new(m, "poll_oneoff", "iiii>i", AbiVersion.All, PollOneoff);
        foreach (var stub in NoSysStubs)
        {
            var parts = stub.Split(':');
            yield return new(m, parts[0], parts[1], AbiVersion.All, static (c, a) => (int)WasiErrno.NoSys);
        }
    }

    // fd_write(fd, iovs, iovs_len, ret_nwritten): fd 1 → info, fd 2 → error, line-buffered (WasmVm.WriteStdio)
    private static int FdWrite(Caller caller, ReadOnlySpan<HostArg> a)
    {
        var vm = (WasmVm)caller.GetData()!;
        int fd = a[0].AsInt32();
        if (fd is not (1 or 2)) return (int)WasiErrno.BadF;
        var memory = GuestMemory.Of(caller, vm);
        int iovs = a[1].AsInt32(), count = a[2].AsInt32();
        uint total = 0;
        for (int i = 0; i < count; i++)
        {
            if (!GuestMemory.TryReadU32(memory, iovs + 8 * i, out var buf) || !GuestMemory.TryReadU32(memory, iovs + 8 * i + 4, out var len)
                || !GuestMemory.TryRead(memory, (int)buf, (int)len, out _)) return (int)WasiErrno.Fault;
            total += len;
        }
        if (!GuestMemory.TryWriteU32(memory, a[3].AsInt32(), total)) return (int)WasiErrno.Fault;
        for (int i = 0; i < count; i++)
        {
            GuestMemory.TryReadU32(memory, iovs + 8 * i, out var buf);
            GuestMemory.TryReadU32(memory, iovs + 8 * i + 4, out var len);
            GuestMemory.TryRead(memory, (int)buf, (int)len, out var bytes);
            vm.WriteStdio(fd, Encoding.UTF8.GetString(bytes));
        }
        return 0;
    }

    // fd_fdstat_get(fd, ret_fdstat): stdout/stderr are writable character devices; anything else BADF
    private static int FdStatGet(Caller caller, ReadOnlySpan<HostArg> a)
    {
        var vm = (WasmVm)caller.GetData()!;
        if (a[0].AsInt32() is not (1 or 2)) return (int)WasiErrno.BadF;
        Span<byte> stat = stackalloc byte[24];
        stat.Clear();
        stat[0] = 2; // character device
        stat[8] = 64; // rights_base = FD_WRITE
        return GuestMemory.TryWriteBytes(GuestMemory.Of(caller, vm), a[1].AsInt32(), stat) ? 0 : (int)WasiErrno.Fault;
    }

    private static IEnumerable<byte[]> EnvironEntries(WasmVm vm)
        => vm.Config.Environment.Select(kv => Encoding.UTF8.GetBytes($"{kv.Key}={kv.Value}\0"));

    private static int EnvironSizesGet(Caller caller, ReadOnlySpan<HostArg> a)
    {
        var vm = (WasmVm)caller.GetData()!;
        var memory = GuestMemory.Of(caller, vm);
        var entries = EnvironEntries(vm).ToList();
        return GuestMemory.TryWriteU32(memory, a[0].AsInt32(), (uint)entries.Count) && GuestMemory.TryWriteU32(memory, a[1].AsInt32(), (uint)entries.Sum(e => e.Length))
            ? 0 : (int)WasiErrno.Fault;
    }

    private static int EnvironGet(Caller caller, ReadOnlySpan<HostArg> a)
    {
        var vm = (WasmVm)caller.GetData()!;
        var memory = GuestMemory.Of(caller, vm);
        int pointers = a[0].AsInt32(), buffer = a[1].AsInt32();
        foreach (var entry in EnvironEntries(vm))
        {
            if (!GuestMemory.TryWriteU32(memory, pointers, (uint)buffer) || !GuestMemory.TryWriteBytes(memory, buffer, entry)) return (int)WasiErrno.Fault;
            pointers += 4;
            buffer += entry.Length;
        }
        return 0;
    }

    private static int ArgsSizesGet(Caller caller, ReadOnlySpan<HostArg> a)
    {
        var memory = GuestMemory.Of(caller, (WasmVm)caller.GetData()!);
        return GuestMemory.TryWriteU32(memory, a[0].AsInt32(), 0) && GuestMemory.TryWriteU32(memory, a[1].AsInt32(), 0) ? 0 : (int)WasiErrno.Fault;
    }

    // clock_time_get(clock_id, i64 precision, ret_u64): 0 realtime, 1 monotonic, others NOTSUP
    private static int ClockTimeGet(Caller caller, ReadOnlySpan<HostArg> a)
    {
        var vm = (WasmVm)caller.GetData()!;
        ulong ns;
        switch (a[0].AsInt32())
        {
            case 0: ns = (ulong)(vm.Host.TimeProvider.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks * 100; break;
            case 1: ns = (ulong)(Stopwatch.GetTimestamp() * (1_000_000_000.0 / Stopwatch.Frequency)); break;
            default: return (int)WasiErrno.NotSup;
        }
        return GuestMemory.TryWriteU64(GuestMemory.Of(caller, vm), a[2].AsInt32(), ns) ? 0 : (int)WasiErrno.Fault;
    }

    private static int ClockResGet(Caller caller, ReadOnlySpan<HostArg> a)
    {
        if (a[0].AsInt32() is not (0 or 1)) return (int)WasiErrno.NotSup;
        return GuestMemory.TryWriteU64(GuestMemory.Of(caller, (WasmVm)caller.GetData()!), a[1].AsInt32(), 1) ? 0 : (int)WasiErrno.Fault;
    }

    // random_get(buf, len): CSPRNG; more than the limit (64 KiB) → INVAL
    private static int RandomGet(Caller caller, ReadOnlySpan<HostArg> a)
    {
        var vm = (WasmVm)caller.GetData()!;
        int len = a[1].AsInt32();
        if ((uint)len > (uint)vm.Config.Limits.MaxRandomBytes) return (int)WasiErrno.Inval;
        if (len == 0) return 0;
        if (!GuestMemory.TryWritable(GuestMemory.Of(caller, vm), a[0].AsInt32(), len, out var target)) return (int)WasiErrno.Fault;
        RandomNumberGenerator.Fill(target);
        return 0;
    }

    // poll_oneoff(in, out, nsubscriptions, ret_nevents): no events, success (Go wasip1 runtimes need it)
    private static int PollOneoff(Caller caller, ReadOnlySpan<HostArg> a)
        => GuestMemory.TryWriteU32(GuestMemory.Of(caller, (WasmVm)caller.GetData()!), a[3].AsInt32(), 0) ? 0 : (int)WasiErrno.Fault;
}
