"""Pool the measured rounds of several full-run reports (bench/results/*.md, their "Every run" tables) into one table:
per scenario the median requests/s and CPU µs per request over every round, and the ratios to the row the method
compares it with (scenarios.py `compare_to`). On a host whose speed moves from one round to the next, the median of
all rounds of two runs is steadier than either run's median (bench/results/2026-12-03-2349.md, "Analysis").

--same ALIAS=ID counts ALIAS's rounds as ID's too, in ID's row and wherever ID is a reference (e.g. G1-pg=G1: G1 on
PostgreSQL has G1's request path); ALIAS keeps its own row.

usage: pool_runs.py [--same ALIAS=ID ...] REPORT.md [REPORT.md ...]
"""
from __future__ import annotations

import argparse
import re
import statistics
import sys

import scenarios

ROW = re.compile(r"^\| (\S+) \| run \| (\d+) \| ([\d,]+) \| [\d.]+ \| [\d.]+ \| (\d+) \|")
METHOD = re.compile(r"then (\d+) × (\d+) s per scenario")
TICKS_PER_S = 100


def rounds(text: str) -> dict[str, list[tuple[float, float]]]:
    """(requests/s, CPU µs per request) of every measured round in one report."""
    m = METHOD.search(text)
    if not m:
        raise ValueError("no 'method: … then R × D s per scenario' line")
    duration = int(m.group(2))
    out: dict[str, list[tuple[float, float]]] = {}
    for line in text.splitlines():
        r = ROW.match(line)
        if r:
            rps = float(r.group(3).replace(",", ""))
            cpu_us = int(r.group(4)) / TICKS_PER_S * 1e6 / (rps * duration) if rps else float("nan")
            out.setdefault(r.group(1), []).append((rps, cpu_us))
    return out


def pool(texts: list[str], same: dict[str, str]) -> list[dict]:
    pooled: dict[str, list[tuple[float, float]]] = {}
    for t in texts:
        for sid, rs in rounds(t).items():
            pooled.setdefault(sid, []).extend(rs)
    own = {sid: list(rs) for sid, rs in pooled.items()}
    for alias, sid in same.items():
        if alias in pooled and sid in own:
            own[sid] = own[sid] + pooled[alias]
    compare = {s.id: s.compare_to for s in scenarios.SCENARIOS}
    med = lambda rs, i: statistics.median(x[i] for x in rs)
    table = []
    for sid, rs in own.items():
        ref = compare.get(sid)
        row = {"id": sid, "rounds": len(rs), "rps": med(rs, 0), "cpu_us": med(rs, 1), "ref": None}
        if ref and ref in own:
            row.update(ref=ref, ref_rounds=len(own[ref]), rps_ratio=row["rps"] / med(own[ref], 0),
                       cpu_ratio=row["cpu_us"] / med(own[ref], 1))
        table.append(row)
    return table


def markdown(table: list[dict]) -> str:
    out = ["| scenario | rounds | req/s (median) | CPU µs/request (median) | req/s × reference | CPU/request × reference's |",
           "|---|---:|---:|---:|---|---:|"]
    for r in table:
        ratio = (f"{r['rps_ratio']:.2f} × {r['ref']} ({r['ref_rounds']} rounds) | {r['cpu_ratio']:.2f}"
                 if r["ref"] else "— | —")
        out.append(f"| {r['id']} | {r['rounds']} | {r['rps']:,.0f} | {r['cpu_us']:.1f} | {ratio} |")
    return "\n".join(out) + "\n"


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--same", action="append", default=[], metavar="ALIAS=ID")
    ap.add_argument("reports", nargs="+")
    a = ap.parse_args(argv)
    same = dict(s.split("=", 1) for s in a.same)
    texts = [open(p, encoding="utf-8").read() for p in a.reports]
    sys.stdout.write(markdown(pool(texts, same)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
