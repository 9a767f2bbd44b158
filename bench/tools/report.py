"""Turns raw.tsv (one row per wrk run) and status.tsv (one row per scenario) into the markdown
results table of docs/benchmarks.md: medians, ratios, derived per-filter CPU and goal verdicts.

usage: report.py --raw FILE --status FILE --out FILE [--title TEXT]
Run parameters (BENCH_*) are read from the environment, as run.sh exports them.
"""
from __future__ import annotations

import argparse
import csv
import os
import platform
import statistics
import subprocess
import sys
from dataclasses import dataclass

import scenarios

# A scenario whose runs saw any non-2xx response, or socket errors above this fraction of the
# requests, is reported but left out of the goals: it did not measure what it claims to.
MAX_SOCKET_ERROR_FRACTION = 0.001

# Under a closed loop of 64 connections a proxy on its own core should be CPU-bound. If it got less
# of core 0 than this, something else was running there and the run says little about the proxy.
MIN_CORE_SHARE_PCT = 90.0

# The other scenarios' servers stay up, idle, on core 0 while one is measured. If together they
# used more than this share of a run's wall time, they disturbed it.
MAX_IDLE_NEIGHBOUR_PCT = 2.0


@dataclass
class Row:
    id: str
    status: str
    reason: str = ""
    note: str = ""
    ready_s: str = ""
    reps: int = 0
    rps: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    cpu_s_per_10k: float | None = None
    peak_rss_mb: float | None = None
    core_pct: float | None = None   # CPU seconds of the system under test / wall seconds of the run
    errors: int = 0
    requests: int = 0

    @property
    def valid(self) -> bool:
        return self.status == "ok" and self.rps is not None

    @property
    def cpu_us_per_request(self) -> float | None:
        return None if self.cpu_s_per_10k is None else self.cpu_s_per_10k * 100.0


def read_tsv(path: str) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def build_rows(raw: list[dict[str, str]], status: list[dict[str, str]]) -> dict[str, Row]:
    rows: dict[str, Row] = {}
    for st in status:
        r = Row(st["scenario"], st["status"], st.get("reason", ""), st.get("note", ""), st.get("ready_s", ""))
        runs = [x for x in raw if x["scenario"] == r.id and x["phase"] == "run"]
        hwm = [int(x["hwm_kb"]) for x in raw if x["scenario"] == r.id]
        if r.status == "ok" and runs:
            rps, p50, p99, cpu, share = [], [], [], [], []
            for x in runs:
                n = int(x["requests"])
                rps.append(n / (int(x["duration_us"]) / 1e6))
                p50.append(int(x["p50_us"]) / 1000)
                p99.append(int(x["p99_us"]) / 1000)
                cpu.append(int(x["cpu_ticks"]) / int(x["clk_tck"]) / max(n, 1) * 10_000)
                share.append(int(x["cpu_ticks"]) / int(x["clk_tck"]) / (int(x["duration_us"]) / 1e6) * 100)
                r.requests += n
                r.errors += sum(int(x[k]) for k in ("err_connect", "err_read", "err_write", "err_status", "err_timeout"))
                if int(x["err_status"]) > 0:
                    r.status, r.reason = "invalid", f"{x['err_status']} non-2xx responses in run {x['rep']}"
            r.reps = len(runs)
            r.rps, r.p50_ms, r.p99_ms = statistics.median(rps), statistics.median(p50), statistics.median(p99)
            r.cpu_s_per_10k = statistics.median(cpu)
            r.core_pct = statistics.median(share)
            r.peak_rss_mb = max(hwm) / 1024 if hwm else None
            if r.status == "ok" and r.errors > MAX_SOCKET_ERROR_FRACTION * r.requests:
                r.status, r.reason = "invalid", f"{r.errors} socket errors in {r.requests} requests"
        elif r.status == "ok":
            r.status, r.reason = "na", "no measured runs"
        rows[r.id] = r
    return rows


def fmt(v: float | None, digits: int = 2, suffix: str = "") -> str:
    return "—" if v is None else f"{v:,.{digits}f}{suffix}"


def ratio(rows: dict[str, Row], a: str, b: str) -> float | None:
    ra, rb = rows.get(a), rows.get(b)
    if ra and rb and ra.valid and rb.valid and rb.rps:
        return ra.rps / rb.rps
    return None


def cpu_ratio(rows: dict[str, Row], a: str, b: str) -> float | None:
    """CPU per request of a over that of b."""
    ra, rb = rows.get(a), rows.get(b)
    if ra and rb and ra.valid and rb.valid and rb.cpu_s_per_10k:
        return ra.cpu_s_per_10k / rb.cpu_s_per_10k
    return None


def per_filter_us(rows: dict[str, Row], w: str) -> float | None:
    """(CPU/request of Wn − CPU/request of G1) / n, in µs."""
    s, g1 = rows.get(w), rows.get("G1")
    if not (s and g1 and s.valid and g1.valid) or not scenarios.get(w).chain:
        return None
    return (s.cpu_us_per_request - g1.cpu_us_per_request) / len(scenarios.get(w).chain)


def goals(rows: dict[str, Row]) -> list[tuple[str, str, str]]:
    """(goal, measured, verdict) for every goal of docs/benchmarks.md that a run can decide."""
    def verdict(value: float | None, ok) -> str:
        return "n/a" if value is None else ("PASS" if ok(value) else "FAIL")

    out = []
    g1_nginx = ratio(rows, "G1", "nginx")
    out.append(("G1 ≥ 0.6 × nginx requests/s", fmt(g1_nginx, suffix="×"), verdict(g1_nginx, lambda v: v >= 0.6)))
    p99 = None
    if rows.get("G1") and rows.get("nginx") and rows["G1"].valid and rows["nginx"].valid:
        p99 = rows["G1"].p99_ms - rows["nginx"].p99_ms
    out.append(("G1 p99 ≤ nginx p99 + 1 ms", fmt(p99, suffix=" ms over nginx"), verdict(p99, lambda v: v <= 1.0)))
    t1 = ratio(rows, "T1", "nginx-tls")
    out.append(("T1 ≥ 0.6 × nginx-tls requests/s (downstream TLS, keep-alive)", fmt(t1, suffix="×"), verdict(t1, lambda v: v >= 0.6)))
    hs = rows.get("T1-hs")
    hs_ratio = ratio(rows, "T1-hs", "nginx-tls-hs")
    out.append(("T1-hs: full TLS handshakes/s beside nginx-tls-hs (a figure, no goal)",
                (f"{hs.rps:,.0f}/s, " if hs and hs.valid else "") + fmt(hs_ratio, suffix="× nginx"), "info" if hs_ratio is not None else "n/a"))
    for sid, bound in (("G2", 0.95), ("W2", 0.9), ("P2", 0.85), ("U1", 0.95), ("G1-pg", 0.98)):
        v = ratio(rows, sid, "G1")
        out.append((f"{sid} ≥ {bound} × G1 requests/s", fmt(v, suffix="×"), verdict(v, lambda x, b=bound: x >= b)))
    # O1 (issue #15): the opentelemetry plugin's throughput cost over W2, same run; CPU per request beside it
    for sid, bound, cost in (("O1", 0.9, "10 %"), ("O1-low", 0.98, "2 %")):
        v = ratio(rows, sid, "W2")
        cpu = cpu_ratio(rows, sid, "W2")
        rate = scenarios.get(sid).otel_sampling
        out.append((f"{sid} ≥ {bound} × W2 requests/s (opentelemetry at sampling {rate:g}: ≤ {cost} cost)",
                    fmt(v, suffix="×") + ("" if cpu is None else f" (CPU/request {cpu:.2f}× W2's)"),
                    verdict(v, lambda x, b=bound: x >= b)))
    w4 = per_filter_us(rows, "W4")
    out.append(("≤ 5 µs CPU per filter per request (from W4)", fmt(w4, suffix=" µs"), verdict(w4, lambda v: v <= 5.0)))
    w10 = rows.get("W10")
    rss = w10.peak_rss_mb if w10 and w10.valid else None
    out.append(("RSS with ten filters loaded ≤ 150 MB (W10 peak)", fmt(rss, 1, " MB"), verdict(rss, lambda v: v <= 150)))
    return out


def sh(cmd: list[str]) -> str:
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
        return (p.stdout or p.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        return "?"


def environment() -> list[str]:
    root = os.environ.get("BENCH_ROOT", ".")
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "?")
    except OSError:
        pass
    try:
        porcelain = subprocess.run(["git", "-C", root, "status", "--porcelain", "--untracked-files=no"],
                                   capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        porcelain = ""
    dirty = " (+ uncommitted changes)" if porcelain.strip() else ""
    return [
        f"- commit: `{sh(['git', '-C', root, 'rev-parse', '--short', 'HEAD'])}`{dirty}",
        f"- machine: {cpu}, {os.cpu_count()} cores, Linux {platform.release()}; "
        f"load average at start {os.environ.get('BENCH_LOADAVG', '?')}",
        "- reference (docs/benchmarks.md, 2026-11-26, same method): direct 49.6k req/s, nginx 19.0k req/s",
        f"- tools: {sh(['nginx', '-v'])}; wrk {' '.join(sh(['wrk', '--version']).split()[1:2])}; "
        f"dotnet SDK {sh(['dotnet', '--version'])}",
        f"- gatehouse binary: {os.environ.get('BENCH_GATEHOUSE_DESC', '?')}",
        "- method: wrk -t{t} -c{c} --latency; {w} s warm-up then {r} × {d} s per scenario, interleaved; "
        "system under test on core {s}, upstream nginx and wrk on core {l}".format(
            t=os.environ.get("BENCH_THREADS"), c=os.environ.get("BENCH_CONNECTIONS"),
            w=os.environ.get("BENCH_WARMUP"), r=os.environ.get("BENCH_REPS"), d=os.environ.get("BENCH_DURATION"),
            s=os.environ.get("BENCH_SUT_CPU"), l=os.environ.get("BENCH_LOAD_CPU")),
    ]


def render(rows: dict[str, Row], raw: list[dict[str, str]], title: str, standard: bool) -> str:
    out = [f"# {title}", ""]
    if not standard:
        out += ["> **Non-standard parameters** (quick run or subset): not comparable with the method's numbers.", ""]
    out += environment() + [""]
    noisy = sorted({x["scenario"] for x in raw if x["phase"] == "run" and int(x.get("others_ticks") or 0)
                    / int(x["clk_tck"]) / (int(x["duration_us"]) / 1e6) * 100 > MAX_IDLE_NEIGHBOUR_PCT})
    if noisy:
        out += [f"> **Warning:** while {', '.join(noisy)} ran, the idle servers of the other scenarios used more "
                f"than {MAX_IDLE_NEIGHBOUR_PCT:.0f} % of core 0 (see 'idle others' under Every run).", ""]
    busy = [f"{sid} {r.core_pct:.0f} %" for sid, r in rows.items()
            if r.valid and r.core_pct is not None and scenarios.get(sid).kind != "direct" and r.core_pct < MIN_CORE_SHARE_PCT]
    if busy:
        out += [f"> **Warning: the machine was busy.** A saturated proxy should use ~100 % of its core; these got "
                f"less: {', '.join(busy)} (load average at start: {os.environ.get('BENCH_LOADAVG', '?')}). "
                "Ratios from this run are not trustworthy; rerun on a quiet machine.", ""]
    out += ["| id | what | status | req/s | × ref | p50 ms | p99 ms | CPU s / 10k req | SUT core % | peak RSS MB | errors |",
            "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for sid, r in rows.items():
        s = scenarios.get(sid)
        ref = ratio(rows, sid, s.compare_to) if s.compare_to else None
        status = "ok" if r.status == "ok" else f"{'not available' if r.status == 'na' else r.status}: {r.reason}"
        ref_txt = f"{fmt(ref)} × {s.compare_to}" if ref is not None else "—"
        out.append(f"| {sid} | {s.what} | {status} | {fmt(r.rps, 0)} | {ref_txt} | {fmt(r.p50_ms)} | "
                   f"{fmt(r.p99_ms)} | {fmt(r.cpu_s_per_10k, 3)} | {fmt(r.core_pct, 0)} | {fmt(r.peak_rss_mb, 1)} | "
                   f"{r.errors if r.reps else '—'} |")
    caveat = "busy machine" if busy else ("quick run" if not standard else "")
    out += ["", "## Goals", "", "| goal | measured | verdict |", "|---|---:|---|"]
    out += [f"| {g} | {m} | {v}{f' (untrustworthy: {caveat})' if caveat and v != 'n/a' else ''} |"
            for g, m, v in goals(rows)]
    # the O1 scenarios' extra CPU is the plugin's, not the filter's
    chained = [s for s in scenarios.SCENARIOS if s.chain and not s.otlp and s.id in rows]
    if chained:
        out += ["", "## Derived: CPU per filter per request (vs G1)", "",
                "(CPU µs/request of the scenario − that of G1) / number of filters in its chain.", "",
                "| scenario | filters | µs / filter / request |", "|---|---:|---:|"]
        out += [f"| {s.id} | {len(s.chain)} | {fmt(per_filter_us(rows, s.id))} |" for s in chained]
    notes = [f"- {sid}: {r.note}" for sid, r in rows.items() if r.note.strip()]
    ready = [f"{sid} {r.ready_s} s" for sid, r in rows.items() if r.ready_s]
    if notes or ready:
        out += ["", "## Notes", ""] + notes + ([f"- Gatehouse start-up to ready: {', '.join(ready)}"] if ready else [])
    out += ["", "## Every run", "", "CPU in clock ticks (1/100 s); *idle others* = ticks used meanwhile by the other "
            "scenarios' idle servers on the same core.", "",
            "| id | phase | rep | req/s | p50 ms | p99 ms | CPU ticks | idle others | VmHWM MB | errors |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for x in raw:
        errs = sum(int(x[k]) for k in ("err_connect", "err_read", "err_write", "err_status", "err_timeout"))
        out.append(f"| {x['scenario']} | {x['phase']} | {x['rep']} | "
                   f"{int(x['requests']) / (int(x['duration_us']) / 1e6):,.0f} | {int(x['p50_us']) / 1000:.2f} | "
                   f"{int(x['p99_us']) / 1000:.2f} | {x['cpu_ticks']} | {x.get('others_ticks') or 0} | "
                   f"{int(x['hwm_kb']) / 1024:.1f} | {errs} |")
    return "\n".join(out) + "\n"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--raw", required=True)
    p.add_argument("--status", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--title", default="Gatehouse benchmark")
    p.add_argument("--standard", action="store_true")
    a = p.parse_args()
    raw = read_tsv(a.raw) if os.path.exists(a.raw) else []
    return write_markdown(a.out, render(build_rows(raw, read_tsv(a.status)), raw, a.title, a.standard))


def write_markdown(path: str, text: str) -> int:
    """Writes a report to its file and to stdout (the scripts log it); the exit status of a report tool."""
    with open(path, "w") as f:
        f.write(text)
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
