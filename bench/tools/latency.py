"""Latency report for `bench/run.sh latency`: G1's p99 against nginx's at the same offered rate, half of
nginx's saturating rate (docs/benchmarks.md, issue #16 goal 1: p99 ≤ nginx p99 + 1 ms).

raw.tsv phases read here: `saturate` (nginx at full load: the rate the target is half of) and `rate` (the
throttled runs; `aim` runs only set the delay and do not count). Medians over the `rate` runs of each proxy.

usage: latency.py --raw FILE --status FILE --target RPS --out FILE [--reason TEXT] [--standard]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys

import report

P99_MARGIN_MS = 1.0
# The throttle is re-aimed between runs, so delivered rates sit within a few % of the offered one. A proxy that
# delivered less than (1 - this) of it was saturated (its p99 is a queue: the goal fails); one that ran faster
# than (1 + this) was not measured at the same rate (no verdict).
RATE_TOLERANCE = 0.10


def summarize(raw: list[dict[str, str]], sid: str) -> dict[str, float] | None:
    runs = [r for r in raw if r["scenario"] == sid and r["phase"] == "rate"]
    if not runs:
        return None
    rps = [int(r["requests"]) / (int(r["duration_us"]) / 1e6) for r in runs]
    cpu = [int(r["cpu_ticks"]) / int(r["clk_tck"]) / max(int(r["requests"]), 1) * 1e6 for r in runs]
    errors = sum(int(r[k]) for r in runs for k in ("err_connect", "err_read", "err_write", "err_timeout"))
    return {"runs": len(runs), "rps": statistics.median(rps),
            "p50": statistics.median(int(r["p50_us"]) / 1000 for r in runs),
            "p99": statistics.median(int(r["p99_us"]) / 1000 for r in runs),
            "p99_max": max(int(r["p99_us"]) / 1000 for r in runs),
            "cpu_us": statistics.median(cpu),
            "non2xx": sum(int(r["err_status"]) for r in runs), "errors": errors,
            "requests": sum(int(r["requests"]) for r in runs)}


def verdict(target: float, nginx: dict[str, float] | None, g1: dict[str, float] | None) -> tuple[str, str]:
    """(measured, verdict) of the goal G1 p99 ≤ nginx p99 + 1 ms at the target rate."""
    if not target or nginx is None or g1 is None:
        return "—", "n/a (not measured)"
    measured = f"G1 {g1['p99']:.2f} ms, nginx {nginx['p99']:.2f} ms: {g1['p99'] - nginx['p99']:+.2f} ms"
    for name, s in (("nginx", nginx), ("G1", g1)):
        if s["non2xx"] or s["errors"] > report.MAX_SOCKET_ERROR_FRACTION * max(s["requests"], 1):
            return measured, f"invalid ({name}: {s['non2xx']:.0f} non-2xx, {s['errors']:.0f} socket errors)"
        share = s["rps"] / target
        if share < 1 - RATE_TOLERANCE:
            return measured, f"FAIL ({name} delivered {share * 100:.0f} % of the offered rate: saturated)"
        if share > 1 + RATE_TOLERANCE:
            return measured, f"invalid ({name} ran at {share * 100:.0f} % of the offered rate: not the same rate)"
    return measured, "PASS" if g1["p99"] <= nginx["p99"] + P99_MARGIN_MS else "FAIL"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--raw", required=True)
    p.add_argument("--status", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--target", type=float, default=0)
    p.add_argument("--reason", default="")
    p.add_argument("--standard", action="store_true")
    a = p.parse_args()
    raw = report.read_tsv(a.raw)
    status = {s["scenario"]: s for s in report.read_tsv(a.status)}
    out = ["# Gatehouse latency at half of nginx's saturating rate", ""]
    if not a.standard:
        out += ["> **Non-standard parameters** (quick run): not the method's durations; development only.", ""]
    saturate = [r for r in raw if r["scenario"] == "nginx" and r["phase"] == "saturate"]
    sat_rps = int(saturate[0]["requests"]) / (int(saturate[0]["duration_us"]) / 1e6) if saturate else 0.0
    out += [f"- nginx at full load: {sat_rps:,.0f} req/s; offered rate to both: "
            f"{f'{a.target:,.0f} req/s' if a.target else 'not measured'}",
            f"- {os.environ.get('BENCH_CONNECTIONS')} connections, wrk's delay() per connection re-aimed after each run; "
            f"proxy on core {os.environ.get('BENCH_SUT_CPU')}, upstream and wrk on core {os.environ.get('BENCH_LOAD_CPU')}; "
            f"load average at start {os.environ.get('BENCH_LOADAVG', '?')}",
            f"- gatehouse binary: {os.environ.get('BENCH_GATEHOUSE_DESC', '?')}", ""]
    if a.reason:
        out += [f"**Not available**: {a.reason}", ""]
    rows = {sid: summarize(raw, sid) for sid in ("nginx", "G1")}
    measured, v = verdict(a.target, rows["nginx"], rows["G1"])
    out += ["| goal | measured | verdict |", "|---|---|---|",
            f"| G1 p99 ≤ nginx p99 + {P99_MARGIN_MS:g} ms at half of nginx's saturating rate | {measured} | {v} |", "",
            "| proxy | status | runs | req/s delivered (median) | p50 ms | p99 ms (median, max) | CPU µs/request |",
            "|---|---|---:|---:|---:|---:|---:|"]
    for sid, s in rows.items():
        st = status.get(sid, {}).get("status", "na")
        if s is None:
            out.append(f"| {sid} | {st} | 0 | — | — | — | — |")
        else:
            out.append(f"| {sid} | {st} | {s['runs']} | {s['rps']:,.0f} | {s['p50']:.2f} | {s['p99']:.2f} "
                       f"({s['p99_max']:.2f}) | {s['cpu_us']:.1f} |")
    out += ["", "## Runs", "", "| proxy | phase | rep | req/s | p50 ms | p99 ms | CPU ticks |", "|---|---|---:|---:|---:|---:|---:|"]
    for r in raw:
        if r["phase"] in ("saturate", "aim", "rate"):
            out.append(f"| {r['scenario']} | {r['phase']} | {r['rep']} | "
                       f"{int(r['requests']) / (int(r['duration_us']) / 1e6):,.0f} | {int(r['p50_us']) / 1000:.2f} | "
                       f"{int(r['p99_us']) / 1000:.2f} | {r['cpu_ticks']} |")
    return report.write_markdown(a.out, "\n".join(out) + "\n")


if __name__ == "__main__":
    sys.exit(main())
