#!/usr/bin/env python3
"""The table of bench/proxy-floor.sh from its temp dir (raw.tsv, extra.tsv, status.tsv, syscalls.tsv):
    proxy_floor_report.py TMPDIR "LOADAVG" VARIANT...
Rerun it on a kept dir (BENCH_KEEP_TMP=1) to reprint a run."""
import csv, statistics, sys
tmp, loadavg, variants = sys.argv[1], sys.argv[2], sys.argv[3:]
raw = [r for r in csv.DictReader(open(f"{tmp}/raw.tsv"), delimiter="\t") if r["phase"] == "run"]
extra = {(r[0], r[1], r[2]): r[3:] for r in csv.reader(open(f"{tmp}/extra.tsv"), delimiter="\t")}
status = {r["scenario"]: r for r in csv.DictReader(open(f"{tmp}/status.tsv"), delimiter="\t")}
calls = {}
for vid, n, name, c in csv.reader(open(f"{tmp}/syscalls.tsv"), delimiter="\t"):
    calls.setdefault(vid, []).append((name, int(c) / max(1, int(n))))
med = lambda xs: statistics.median(xs) if xs else None
rows, per_round = {}, {}
for v in variants:
    runs = [r for r in raw if r["scenario"] == v]
    if not runs or status.get(v, {}).get("status") != "ok":
        continue
    rps, cpu, cs, alloc, p99, others, kernel, bad = [], [], [], [], [], [], [], 0
    for r in runs:
        n, secs = int(r["requests"]), int(r["duration_us"]) / 1e6
        errors = sum(int(r[k]) for k in ("err_connect", "err_read", "err_write", "err_status", "err_timeout"))
        bad += errors > 0.001 * n
        rps.append(n / secs)
        cpu.append(1e6 * int(r["cpu_ticks"]) / int(r["clk_tck"]) / n)
        p99.append(int(r["p99_us"]) / 1000)
        others.append(100 * int(r["others_ticks"]) / int(r["clk_tck"]) / secs)
        e = extra.get((v, "run", r["rep"]))
        if e:
            cs.append(int(e[0]) / n)
            if len(e) > 1 and e[1]:
                alloc.append(int(e[1]) / n)
            if len(e) > 2 and e[2]:
                kernel.append(1e6 * int(e[2]) / int(r["clk_tck"]) / n)
    sc = sorted(calls.get(v, []), key=lambda x: -x[1])
    per_round[v] = {r["rep"]: x for r, x in zip(runs, cpu)}
    rows[v] = dict(rps=med(rps), cpu=med(cpu), user=med([c - k for c, k in zip(cpu, kernel)]) if kernel else None, cpu_lo=min(cpu), cpu_hi=max(cpu), cs=med(cs), alloc=med(alloc),
                   p99=med(p99), others=max(others), kernel=med(kernel), bad=bad, n=len(runs),
                   sys=sum(x[1] for x in sc) if sc else None, top=", ".join(f"{k} {x:.2f}" for k, x in sc[:6]))
fmt = lambda x, f: "—" if x is None else format(x, f)
print(f"# Proxy floor (bench/proxy-floor.sh), load average at end {loadavg}\n")
print("| variant | runs | req/s (median) | CPU µs/request (median, min–max) | of which user / kernel µs | context switches/request | bytes allocated/request | syscalls/request (strace pass) | p99 ms | idle others max % core |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for v, r in rows.items():
    print(f"| {v}{' (INVALID: errors)' if r['bad'] else ''} | {r['n']} | {r['rps']:,.0f} | {r['cpu']:.1f} ({r['cpu_lo']:.1f}–{r['cpu_hi']:.1f}) | "
          f"{fmt(r['user'], '.1f')} / {fmt(r['kernel'], '.1f')} | {fmt(r['cs'], '.3f')} | {fmt(r['alloc'], ',.0f')} | {fmt(r['sys'], '.2f')} | {r['p99']:.2f} | {r['others']:.1f} |")
for v in variants:
    if v not in rows:
        print(f"| {v} | not available: {status.get(v, {}).get('reason', '?')} | | | | | | | | |")
print("\nSyscalls per request, largest first (strace -c -f; strace slows the server, the counts stay valid):\n")
for v, r in rows.items():
    if r["top"]:
        print(f"- {v}: {r['top']}")
c = {v: r["cpu"] for v, r in rows.items()}
print("\nArithmetic (medians of CPU µs/request):\n")
if "kestrel-direct" in c and "nginx-return" in c:
    print(f"- Kestrel's floor over nginx's: kestrel-direct {c['kestrel-direct']:.1f} − nginx-return {c['nginx-return']:.1f} = {c['kestrel-direct'] - c['nginx-return']:.1f}")
if "nginx" in c and "nginx-return" in c:
    print(f"- nginx's proxying (upstream client) on top of its floor: {c['nginx'] - c['nginx-return']:.1f}")
if "yarp" in c and "kestrel-direct" in c:
    print(f"- YARP + SocketsHttpHandler on top of Kestrel's floor: {c['yarp'] - c['kestrel-direct']:.1f}")
if "lean" in c and "kestrel-direct" in c:
    print(f"- the lean client on top of Kestrel's floor: {c['lean'] - c['kestrel-direct']:.1f}")
if "lean" in c and "yarp" in c:
    print(f"- what the lean client saves against YARP: {c['yarp'] - c['lean']:.1f} ({100 * (c['yarp'] - c['lean']) / c['yarp']:.0f} % of yarp)")
    paired = [per_round["yarp"][k] - per_round["lean"][k] for k in per_round["yarp"] if k in per_round["lean"]]
    if paired:
        print(f"  - per round (yarp − lean of the same round, less exposed to drifting load): "
              f"{', '.join(f'{x:.1f}' for x in paired)}; median {statistics.median(paired):.1f}")
if "G1" in c and "yarp" in c:
    print(f"- Gatehouse above a minimal YARP forwarder: G1 {c['G1']:.1f} − yarp {c['yarp']:.1f} = {c['G1'] - c['yarp']:.1f}")
if "G1" in c and "kestrel-direct" in c:
    print(f"- Kestrel's floor as a share of G1: {100 * c['kestrel-direct'] / c['G1']:.0f} %")
if "nginx" in c:
    for v in ("kestrel-direct", "yarp", "lean", "G1"):
        if v in c:
            print(f"- {v} / nginx proxy: {c[v] / c['nginx']:.2f} ×")
    if all(k in c for k in ("G1", "yarp", "lean")):
        g = c["G1"] - (c["yarp"] - c["lean"])
        print(f"- G1 with the lean client's saving (G1 − (yarp − lean)): {g:.1f} = {g / c['nginx']:.2f} × nginx (goal ≤ 1.5 ×: {1.5 * c['nginx']:.1f})")
print("\nRead CPU µs/request and the counts; req/s on a shared machine is indicative only. Flag: a row whose idle others "
      "exceed 2 % of a core, or whose min–max spread is wide, was measured on a busy machine.")
