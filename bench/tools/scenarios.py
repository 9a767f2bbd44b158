"""The benchmark scenarios of docs/benchmarks.md: ONE table that drives config generation
(prepare.py), pre-flight checks (preflight.py), the shell driver (run.sh asks `scenarios.py`)
and the report (report.py). Add or change a scenario here and nowhere else."""
from __future__ import annotations

import sys
from dataclasses import dataclass

# The key the P2 consumer uses; wrk sends it as `apikey:` (key-auth's default key name).
API_KEY = "bench-key-0123456789"

# G2: 10,000 routes; traffic is spread over HOT_ROUTES of them, evenly spaced through the table.
G2_ROUTES = 10_000
G2_HOT_ROUTES = 100

# W10 / soak: ten filters loaded = ten distinct modules, each a copy of bench-headers under its
# own name, so a host cannot share one compiled module between them.
TEN_FILTERS = tuple(f"bench-headers-{i:02d}" for i in range(1, 11))


@dataclass(frozen=True)
class Scenario:
    id: str
    kind: str                       # "direct" (wrk -> upstream), "nginx" (baseline proxy), "gatehouse"
    what: str
    compare_to: str | None = None   # the row its requests/s ratio is taken against
    chain: tuple[str, ...] = ()     # filter names in chain order (route-level filter chain)
    plugins: bool = False           # key-auth + rate-limiting (policy local)
    routes: int = 1
    hot_routes: int = 1
    wrk_script: str = "static.lua"  # in bench/lua/
    expect_header: tuple[str, int] | None = None  # response header and how many values the chain adds
    in_full_run: bool = True

    @property
    def wasm(self) -> bool:
        return bool(self.chain)


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("direct", "direct", "wrk -> upstream nginx (the ceiling of this box)"),
    Scenario("nginx", "nginx", "nginx 1 worker, proxy_pass, keepalive 256 (the proxy to beat)", "direct"),
    Scenario("G1", "gatehouse", "1 service, 1 route, no plugins, no filters", "nginx"),
    Scenario("G2", "gatehouse", f"{G2_ROUTES:,} routes (distinct prefix paths and hosts), "
             f"traffic over {G2_HOT_ROUTES} of them", "G1",
             routes=G2_ROUTES, hot_routes=G2_HOT_ROUTES, wrk_script="g2.lua"),
    Scenario("W1", "gatehouse", "G1 + one filter that does nothing (noop)", "G1", chain=("noop",)),
    Scenario("W2", "gatehouse", "G1 + one filter adding 2 request headers, 1 response header",
             "G1", chain=("bench-headers",), expect_header=("x-bench", 1)),
    Scenario("W4", "gatehouse", "G1 + a chain of four W2 filters", "G1",
             chain=("bench-headers",) * 4, expect_header=("x-bench", 4)),
    Scenario("WB", "gatehouse", "G1 + one filter that reads and rewrites a 1 KiB request body",
             "G1", chain=("bench-body",), wrk_script="post-1k.lua"),
    Scenario("P2", "gatehouse", "G1 + key-auth + rate-limiting (local) plugins", "G1",
             plugins=True, wrk_script="apikey.lua"),
    Scenario("W10", "gatehouse", "G1 + ten filters loaded and chained (ten copies of bench-headers "
             "under distinct names); for the RSS goal", "G1",
             chain=TEN_FILTERS, expect_header=("x-bench", 10)),
)

BY_ID = {s.id: s for s in SCENARIOS}


def module_source(filter_name: str) -> str:
    """File under filters/test/ that provides the module for a filter name in a chain."""
    if filter_name in TEN_FILTERS:
        return "bench-headers.wasm"
    return f"{filter_name}.wasm"


def get(scenario_id: str) -> Scenario:
    try:
        return BY_ID[scenario_id]
    except KeyError:
        raise SystemExit(f"unknown scenario '{scenario_id}' (known: {' '.join(BY_ID)})") from None


def _main(argv: list[str]) -> int:
    """Tiny CLI for run.sh: `full` (ids of a full run), `all`, `kind ID`, `script ID`, `describe`."""
    if not argv:
        print(_main.__doc__)
        return 2
    cmd = argv[0]
    if cmd == "full":
        print(" ".join(s.id for s in SCENARIOS if s.in_full_run))
    elif cmd == "all":
        print(" ".join(BY_ID))
    elif cmd == "kind":
        print(get(argv[1]).kind)
    elif cmd == "script":
        print(get(argv[1]).wrk_script)
    elif cmd == "describe":
        for s in SCENARIOS:
            print(f"{s.id:7} {s.what}")
    else:
        print(f"unknown command {cmd}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
