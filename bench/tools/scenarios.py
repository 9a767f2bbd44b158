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
# G2-100k (issue #16 goal 5): G2 with ten times the routes, same 100 hot ones spread through the table.
G2_100K_ROUTES = 100_000

# W10 / soak: ten filters loaded = ten distinct modules, each a copy of bench-headers under its
# own name, so a host cannot share one compiled module between them.
TEN_FILTERS = tuple(f"bench-headers-{i:02d}" for i in range(1, 11))

# U1: the upstream nginx also listens on 127.0.0.2 .. 127.0.0.<UPSTREAM_ADDRESSES> (same port), so an
# upstream entity can have that many distinct targets that all answer "hello".
UPSTREAM_ADDRESSES = 4
U1_UPSTREAM = "bench-upstream"
# Active health checks of U1 (seconds between probes of each target, healthy and unhealthy).
U1_CHECK_INTERVAL = 1
# bench/health-idle.sh: the idle cost of active checks over an upstream of this many targets.
IDLE_TARGETS = 100

# O1 / O1-low: the opentelemetry plugin exports to the bench's local OTLP/HTTP receiver (tools/otlp_receiver.py), each
# scenario on its own path so the pre-flight can tell their posts apart.
OTLP_TRACES_PATH = "/{id}/v1/traces"


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
    upstream_targets: int = 0       # > 0: the service balances over an upstream entity of this many targets
    check_interval: int = 0         # active health checks every N s (healthy and unhealthy); 0: off
    database: str = "off"           # "postgres": the config is written through the Admin API into PostgreSQL
    tls: bool = False               # downstream HTTPS with the run's certificate (RSA 2048, generated once per run)
    otel_sampling: float | None = None  # a global opentelemetry plugin at this sampling_rate, tracing_instrumentations = all

    @property
    def otlp(self) -> bool:
        """Exports spans to the bench's OTLP receiver."""
        return self.otel_sampling is not None

    @property
    def otlp_path(self) -> str:
        return OTLP_TRACES_PATH.format(id=self.id)

    @property
    def wasm(self) -> bool:
        return bool(self.chain)


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("direct", "direct", "wrk -> upstream nginx (the ceiling of this box)"),
    Scenario("nginx", "nginx", "nginx 1 worker, proxy_pass, keepalive 256 (the proxy to beat)", "direct"),
    Scenario("G1", "gatehouse", "1 service, 1 route, no plugins, no filters", "nginx"),
    Scenario("G1-pg", "gatehouse", "G1 on PostgreSQL (database = postgres; the proxy path must not touch the "
             "database)", "G1", database="postgres"),
    Scenario("G2", "gatehouse", f"{G2_ROUTES:,} routes (distinct prefix paths and hosts), "
             f"traffic over {G2_HOT_ROUTES} of them", "G1",
             routes=G2_ROUTES, hot_routes=G2_HOT_ROUTES, wrk_script="g2.lua"),
    Scenario("G2-100k", "gatehouse", f"G2 with {G2_100K_ROUTES:,} routes, traffic over {G2_HOT_ROUTES} of them", "G1",
             routes=G2_100K_ROUTES, hot_routes=G2_HOT_ROUTES, wrk_script="g2.lua", in_full_run=False),
    Scenario("W1", "gatehouse", "G1 + one filter that does nothing (noop)", "G1", chain=("noop",)),
    Scenario("W2", "gatehouse", "G1 + one filter adding 2 request headers, 1 response header",
             "G1", chain=("bench-headers",), expect_header=("x-bench", 1)),
    # O1 (issue #15): W2 + a global opentelemetry plugin with every instrumentation on, exporting to a local OTLP/HTTP
    # receiver; its cost is the requests/s ratio to W2 in the same run.
    Scenario("O1", "gatehouse", "W2 + global opentelemetry plugin, sampling_rate 1.0, tracing_instrumentations = all, "
             "exporting to a local OTLP/HTTP receiver", "W2", chain=("bench-headers",), expect_header=("x-bench", 1),
             otel_sampling=1.0),
    Scenario("O1-low", "gatehouse", "O1 at sampling_rate 0.01", "W2", chain=("bench-headers",),
             expect_header=("x-bench", 1), otel_sampling=0.01),
    Scenario("W4", "gatehouse", "G1 + a chain of four W2 filters", "G1",
             chain=("bench-headers",) * 4, expect_header=("x-bench", 4)),
    Scenario("WB", "gatehouse", "G1 + one filter that reads and rewrites a 1 KiB request body",
             "G1", chain=("bench-body",), wrk_script="post-1k.lua"),
    Scenario("G1-post", "gatehouse", "WB without its filter: G1 with WB's 1 KiB POST (for profile.sh: the POST's share of "
             "WB's cost against the filter's)", "G1", wrk_script="post-1k.lua", in_full_run=False),
    Scenario("P2", "gatehouse", "G1 + key-auth + rate-limiting (local) plugins", "G1",
             plugins=True, wrk_script="apikey.lua"),
    Scenario("W10", "gatehouse", "G1 + ten filters loaded and chained (ten copies of bench-headers "
             "under distinct names); for the RSS goal", "G1",
             chain=TEN_FILTERS, expect_header=("x-bench", 10)),
    # T1 (issue #14): G1 over TLS against nginx with the same certificate; the -hs pair opens a new TLS connection
    # per request (Connection: close), so requests/s is full handshakes/s: neither side resumes sessions.
    Scenario("nginx-tls", "nginx", "nginx over TLS: `nginx` with downstream HTTPS (the run's RSA 2048 certificate), "
             "keep-alive", "nginx", tls=True),
    Scenario("T1", "gatehouse", "G1 over TLS: downstream HTTPS with keep-alive, plain HTTP upstream", "nginx-tls", tls=True),
    Scenario("nginx-tls-hs", "nginx", "nginx-tls with a new TLS connection per request (full handshakes: session "
             "cache and tickets off)", "nginx-tls", tls=True, wrk_script="close.lua"),
    Scenario("T1-hs", "gatehouse", "T1 with a new TLS connection per request (full handshakes: Gatehouse does not "
             "resume sessions)", "nginx-tls-hs", tls=True, wrk_script="close.lua"),
    Scenario("U1", "gatehouse", f"G1 over an upstream of {UPSTREAM_ADDRESSES} targets, round-robin, "
             f"active health checks every {U1_CHECK_INTERVAL} s", "G1",
             upstream_targets=UPSTREAM_ADDRESSES, check_interval=U1_CHECK_INTERVAL),
)

# Not load-tested: the two gateways bench/health-idle.sh compares while idle (same upstream of IDLE_TARGETS
# targets, checks every second and checks off). prepare.py and preflight.py take their ids like any other.
IDLE_SCENARIOS: tuple[Scenario, ...] = (
    Scenario("H100", "gatehouse", f"idle; an upstream of {IDLE_TARGETS} targets, active checks every 1 s",
             upstream_targets=IDLE_TARGETS, check_interval=1, in_full_run=False),
    Scenario("H100-off", "gatehouse", f"idle; the same upstream of {IDLE_TARGETS} targets, checks off",
             upstream_targets=IDLE_TARGETS, in_full_run=False),
)

BY_ID = {s.id: s for s in SCENARIOS + IDLE_SCENARIOS}


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
    """Tiny CLI for run.sh: `full` (ids of a full run), `all`, `kind ID`, `script ID`, `database ID`, `tls ID`, `otlp ID`, `upstream-addresses`, `idle-targets`,
    `describe`."""
    if not argv:
        print(_main.__doc__)
        return 2
    cmd = argv[0]
    if cmd == "full":
        print(" ".join(s.id for s in SCENARIOS if s.in_full_run))
    elif cmd == "all":
        print(" ".join(s.id for s in SCENARIOS))
    elif cmd == "kind":
        print(get(argv[1]).kind)
    elif cmd == "upstream-addresses":
        print(UPSTREAM_ADDRESSES)
    elif cmd == "idle-targets":
        print(IDLE_TARGETS)
    elif cmd == "database":
        print(get(argv[1]).database)
    elif cmd == "tls":
        print(1 if get(argv[1]).tls else 0)
    elif cmd == "otlp":
        print(1 if get(argv[1]).otlp else 0)
    elif cmd == "script":
        print(get(argv[1]).wrk_script)
    elif cmd == "describe":
        for s in SCENARIOS:
            print(f"{s.id:12} {s.what}")
    else:
        print(f"unknown command {cmd}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
