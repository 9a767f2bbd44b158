"""Soak report: RSS samples over time -> least-squares slope (MB/min) after the first minute,
peak RSS, achieved request rate per segment, and the two soak goals of docs/benchmarks.md.

"Slope within noise": a straight line is fitted to VmRSS (MB) against time (min) over the samples
after --skip seconds. RSS counts as NOT growing when the growth the fit implies over that window
is no larger than max(2 standard errors of the slope × window, 1 % of the mean RSS). The 1 %
floor is there because GC heaps breathe and samples are autocorrelated, which makes the
standard error optimistic; a real leak at the rates used here grows far beyond it in 9 minutes.

usage: soak.py --scenario ID --status ok|na --reason TEXT --target RPS --t0 EPOCH --rss FILE
               --raw FILE --skip SECONDS --out FILE [--standard]
"""
from __future__ import annotations

import argparse
import csv
import math
import os
import sys

import report
import scenarios

RSS_LIMIT_MB = 150.0


def fit(xs: list[float], ys: list[float]) -> tuple[float, float]:
    """Least-squares slope and its standard error."""
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    intercept = my - slope * mx
    resid = sum((y - (intercept + slope * x)) ** 2 for x, y in zip(xs, ys))
    se = math.sqrt(resid / (n - 2) / sxx) if n > 2 else float("inf")
    return slope, se


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for name in ("--scenario", "--status", "--reason", "--rss", "--raw", "--out"):
        p.add_argument(name, required=name not in ("--reason",), default="")
    p.add_argument("--target", type=float, default=0)
    p.add_argument("--t0", type=float, default=0)
    p.add_argument("--skip", type=float, default=60)
    p.add_argument("--standard", action="store_true")
    a = p.parse_args()
    s = scenarios.get(a.scenario)
    out = ["# Gatehouse soak", ""]
    if not a.standard:
        out += ["> **Non-standard parameters** (quick run): not a 10-minute soak at the method's settings.", ""]
    out += [f"- scenario: {s.id} — {s.what}",
            f"- target rate: {f'{a.target:,.0f} req/s' if a.target else 'not measured'} "
            "(half of G1's measured rate unless BENCH_SOAK_RPS was set)",
            f"- connections: {os.environ.get('BENCH_CONNECTIONS')}; system under test on core "
            f"{os.environ.get('BENCH_SUT_CPU')}, upstream and wrk on core {os.environ.get('BENCH_LOAD_CPU')}",
            f"- gatehouse binary: {os.environ.get('BENCH_GATEHOUSE_DESC', '?')}", ""]
    if a.status != "ok":
        out += [f"**Not available**: {a.reason}", ""]
        return write(a.out, out)

    samples = []
    with open(a.rss) as f:
        for line in f:
            t, rss, hwm = line.split()
            samples.append(((float(t) - a.t0) / 60.0, int(rss) / 1024, int(hwm) / 1024))
    with open(a.raw, newline="") as f:
        runs = [r for r in csv.DictReader(f, delimiter="\t") if r["scenario"] == s.id and r["phase"] == "soak"]
    peak = max((h for _, _, h in samples), default=0.0)
    late = [(t, r) for t, r, _ in samples if t * 60 >= a.skip]
    ten = len(s.chain) == 10
    goals: list[tuple[str, str, str]] = [("RSS with ten filters loaded ≤ 150 MB (peak VmHWM)", f"{peak:.1f} MB",
              ("PASS" if peak <= RSS_LIMIT_MB else "FAIL") if ten
              else f"n/a ({s.id} has {len(s.chain)} filters, not ten)")]
    if len(late) >= 3:
        slope, se = fit([t for t, _ in late], [r for _, r in late])
        window = late[-1][0] - late[0][0]
        mean = sum(r for _, r in late) / len(late)
        allowed = max(2 * se * window, 0.01 * mean)
        flat = slope * window <= allowed
        goals.append((f"RSS does not grow after the first {a.skip:.0f} s",
                       f"{slope:+.3f} ± {se:.3f} MB/min → {slope * window:+.1f} MB over {window:.1f} min "
                       f"(allowed {allowed:.1f})", "PASS" if flat else "FAIL"))
    else:
        goals.append((f"RSS does not grow after the first {a.skip:.0f} s",
                      f"{len(late)} samples after {a.skip:.0f} s (need ≥ 3)", "n/a"))
    errors = sum(int(r[k]) for r in runs for k in ("err_connect", "err_read", "err_write", "err_status", "err_timeout"))
    requests = sum(int(r["requests"]) for r in runs)
    non2xx = sum(int(r["err_status"]) for r in runs)
    if non2xx or errors > report.MAX_SOCKET_ERROR_FRACTION * max(requests, 1):
        # Not the scenario that was meant (e.g. fast 404s): keep the numbers, withdraw the verdicts.
        goals = [(g, m, f"invalid ({non2xx} non-2xx, {errors} errors in {requests} requests)") for g, m, _ in goals]
    seconds = sum(int(r["duration_us"]) for r in runs) / 1e6
    achieved = requests / seconds if seconds else 0.0
    out += ["| goal | measured | verdict |", "|---|---|---|"] + [f"| {g} | {m} | {v} |" for g, m, v in goals]
    out += ["", f"Requests: {requests:,} in {seconds:,.0f} s = {achieved:,.0f} req/s "
            f"({achieved / a.target * 100 if a.target else 0:.0f} % of the target); errors: {errors}.", "", "## Segments", "",
            "| segment | req/s | p50 ms | p99 ms | CPU ticks | VmRSS MB at end |", "|---:|---:|---:|---:|---:|---:|"]
    for r in runs:
        out.append(f"| {r['rep']} | {int(r['requests']) / (int(r['duration_us']) / 1e6):,.0f} | "
                   f"{int(r['p50_us']) / 1000:.2f} | {int(r['p99_us']) / 1000:.2f} | {r['cpu_ticks']} | "
                   f"{int(r['rss_kb']) / 1024:.1f} |")
    out += ["", "## RSS samples", "", "| minute | VmRSS MB | VmHWM MB |", "|---:|---:|---:|"]
    out += [f"| {t:.2f} | {r:.1f} | {h:.1f} |" for t, r, h in samples]
    return write(a.out, out)


def write(path: str, lines: list[str]) -> int:
    return report.write_markdown(path, "\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main())
