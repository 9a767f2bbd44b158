"""Pre-flight checks: before a scenario is measured, prove it is really the scenario — the
upstream answers through the system under test, routes match by host AND path, the filter chain
or the plugins visibly ran. A failed check makes the scenario "not available" (exit 1, one reason
line on stderr) instead of producing numbers for something else (e.g. fast 404s).
Notes that do not fail the scenario go to stdout as `note: ...`.

usage: preflight.py ID --proxy HOST:PORT [--admin HOST:PORT] [--targets FILE] [--tls] [--otlp HOST:PORT]
       preflight.py ID --after --admin HOST:PORT --otlp HOST:PORT   (after the runs: notes on what was exported)
"""
from __future__ import annotations

import argparse
import http.client
import ssl
import json
import os
import re
import sys
import time

import prepare
import scenarios
from scenarios import Scenario

BODY_1K = b"abcdefghijklmnop" * 64
HELLO = b"hello\n"
TLS_HOSTS: set[str] = set()  # --tls: the proxy's HOST:PORT speaks HTTPS (the Admin API stays plain HTTP)


class CheckFailed(Exception):
    pass


def request(hostport: str, method: str, path: str, headers: dict[str, str] | None = None,
            body: bytes | None = None) -> tuple[int, http.client.HTTPMessage, bytes]:
    host, port = hostport.rsplit(":", 1)
    # tls scenarios: the run's self-signed certificate, so no verification
    conn = (http.client.HTTPSConnection(host, int(port), timeout=10, context=ssl._create_unverified_context()) if hostport in TLS_HOSTS
            else http.client.HTTPConnection(host, int(port), timeout=10))
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.headers, resp.read()
    except OSError as e:
        raise CheckFailed(f"{method} {path}: {e.__class__.__name__}: {e}") from None
    finally:
        conn.close()


def expect(hostport: str, method: str, path: str, status: int, headers: dict[str, str] | None = None,
           body: bytes | None = None, hello: bool = True) -> http.client.HTTPMessage:
    got, resp_headers, resp_body = request(hostport, method, path, headers, body)
    what = f"{method} {path}" + (f" Host={headers['Host']}" if headers and "Host" in headers else "")
    if got != status:
        raise CheckFailed(f"{what}: expected status {status}, got {got} ({resp_body[:80]!r})")
    if hello and status == 200 and resp_body != HELLO:
        raise CheckFailed(f"{what}: expected the upstream's body 'hello\\n', got {resp_body[:80]!r}")
    return resp_headers


def header_values(headers: http.client.HTTPMessage, name: str) -> int:
    return sum(len([v for v in value.split(",") if v.strip()]) for value in headers.get_all(name) or [])


def check_chain_via_admin(s: Scenario, admin: str | None) -> None:
    if not admin:
        return
    status, _, body = request(admin, "GET", "/filter-chains")
    if status != 200:
        print(f"note: GET /filter-chains on the Admin API answered {status}; chain not verified there")
        return
    chains = json.loads(body).get("data", [])
    count = sum(len(c.get("filters", [])) for c in chains)
    if count != len(s.chain):
        raise CheckFailed(f"Admin API lists {count} filters in {len(chains)} chain(s), expected {len(s.chain)}")


def check_g2(s: Scenario, proxy: str, targets_file: str) -> None:
    with open(targets_file) as f:
        pairs = [line.split() for line in f if line.strip()]
    if len(pairs) != s.hot_routes:
        raise CheckFailed(f"{targets_file} has {len(pairs)} targets, expected {s.hot_routes}")
    for host, path in pairs:
        expect(proxy, "GET", path, 200, {"Host": host})
    # Host of one route with the path of another must not match anything (both are required).
    expect(proxy, "GET", pairs[1][1], 404, {"Host": pairs[0][0]}, hello=False)
    # Routes outside the hot set answer too, the first and the last: all of them are loaded, not just the 100.
    for i in (1, s.routes - 1):
        host, path = prepare.g2_route(i, s.routes)
        expect(proxy, "GET", path, 200, {"Host": host})


def check_upstream_health(s: Scenario, admin: str | None) -> None:
    """Every target of the scenario's upstream is HEALTHY in `/upstreams/{u}/health`: the health checker
    exists (checks are on, not HEALTHCHECKS_OFF) and its probes of `/` succeed. Polled for a few seconds,
    as the first probes run on the checker's timers. With checks off, every target is HEALTHCHECKS_OFF.
    Targets start HEALTHY, and one failed probe flips one (the scenarios set 1 failure), so the check waits two
    intervals first: after that, HEALTHY means the probes of `/` did succeed."""
    want = "HEALTHY" if s.check_interval else "HEALTHCHECKS_OFF"
    time.sleep(2 * s.check_interval)
    if not admin:
        raise CheckFailed("an upstream scenario needs --admin to check its targets' health")
    path = f"/upstreams/{scenarios.U1_UPSTREAM}/health"
    deadline = time.monotonic() + 10
    while True:
        status, _, body = request(admin, "GET", path)
        if status != 200:
            raise CheckFailed(f"GET {path} on the Admin API answered {status}: {body[:120]!r}")
        targets = json.loads(body).get("data", [])
        health = sorted(f"{t.get('target')}={t.get('health')}" for t in targets)
        if len(targets) == s.upstream_targets and all(t.get("health") == want for t in targets):
            return
        if time.monotonic() > deadline:
            raise CheckFailed(f"{path}: expected {s.upstream_targets} {want} targets, got {', '.join(health) or 'none'}")
        time.sleep(0.5)


# The exporter sends a batch after at most queue.max_coalescing_delay (Kong's default 1 s): wait a few of those.
OTLP_WAIT_S = 6.0
OTLP_SETTLE_S = 1.5  # then this long for a trace that should not come


def receiver(otlp: str, what: str, path: str, since: int | None = None) -> dict:
    query = f"/{what}?path={path}" + (f"&since={since}" if since is not None else "")
    status, _, body = request(otlp, "GET", query)
    if status != 200:
        raise CheckFailed(f"the OTLP receiver answered {status} to GET {query}")
    return json.loads(body)


def traceparent(flags: str) -> tuple[str, str]:
    # The first 8 bytes zero: Kong's sampler (and Gatehouse's) reads them as the number compared with rate x 2^64,
    # so this trace is kept at any rate above 0 when the client says sampled.
    trace_id = "0" * 16 + os.urandom(8).hex()
    return trace_id, f"00-{trace_id}-{os.urandom(8).hex()}-{flags}"


def check_otlp(s: Scenario, proxy: str, otlp: str | None) -> None:
    """The spans really reach the receiver: a request whose traceparent says sampled (flags 01) is exported under its
    trace id whatever the rate (its trace id is one the sampler keeps at any rate), with more than the request span (tracing_instrumentations
    = all); one saying not sampled (00) is not. At sampling_rate 1.0 every request without a traceparent is exported
    too, each under its own new trace id."""
    if not otlp:
        raise CheckFailed(f"{s.id} needs --otlp (the bench's OTLP receiver)")
    since = receiver(otlp, "stats", s.otlp_path)["posts"]
    sampled, sampled_header = traceparent("01")
    unsampled, unsampled_header = traceparent("00")
    expect(proxy, "GET", "/", 200, {"traceparent": unsampled_header})
    plain = 10 if s.otel_sampling >= 1 else 0
    for _ in range(plain):
        expect(proxy, "GET", "/", 200)
    expect(proxy, "GET", "/", 200, {"traceparent": sampled_header})  # last: its spans are the last to be queued
    deadline = time.monotonic() + OTLP_WAIT_S
    while True:
        got = receiver(otlp, "traces", s.otlp_path, since)
        traces = got["traces"]
        if sampled in traces and len(traces) >= 1 + plain:
            break
        if time.monotonic() > deadline:
            raise CheckFailed(f"the OTLP receiver got {got['posts'] - since} post(s) on {s.otlp_path} with {len(traces)} "
                              f"trace(s) in {OTLP_WAIT_S:.0f} s: expected the sampled request's trace {sampled}"
                              + (f" and {plain} more" if plain else "") + ": spans do not reach the receiver")
        time.sleep(0.2)
    time.sleep(OTLP_SETTLE_S)  # a trace sent late would come within one coalescing delay
    traces = receiver(otlp, "traces", s.otlp_path, since)["traces"]
    if unsampled in traces:
        raise CheckFailed(f"a request whose traceparent says not sampled (flags 00) was exported (trace {unsampled})")
    names = traces[sampled]
    if len(names) < 3:
        raise CheckFailed(f"the sampled request's trace has {len(names)} span(s) ({', '.join(names)}): expected the "
                          "request, router, plugin and filter spans of tracing_instrumentations = all")
    if plain and len(traces) != 1 + plain:
        raise CheckFailed(f"at sampling_rate {s.otel_sampling}, {len(traces) - 1} of {plain} requests without a "
                          "traceparent were exported, expected all")
    print(f"note: a sampled request exported {len(names)} spans ({', '.join(sorted(set(names)))})")


def dropped_spans(metrics: str) -> dict[str, float]:
    """The reasons with spans dropped, from a /metrics scrape: the gateway exports every reason's series from the
    start, so a 0 is no drop."""
    return {m.group(1): float(m.group(2)) for m in
            re.finditer(r'^gatehouse_opentelemetry_spans_dropped_total\{reason="([^"]+)"\} (\S+)$', metrics, re.M)
            if float(m.group(2)) > 0}


def after_runs(s: Scenario, admin: str | None, otlp: str | None) -> None:
    """Notes once the runs are over: what reached the receiver, and the spans the gateway dropped (its bounded queue
    full, or a batch the receiver did not take). Drops mean the measured cost is understated."""
    if otlp:
        st = receiver(otlp, "stats", s.otlp_path)
        print(f"note: the OTLP receiver took {st['posts']:,} batches ({st['bytes'] / 1e6:,.1f} MB) on {s.otlp_path}")
    if admin:
        status, _, body = request(admin, "GET", "/metrics")
        if status != 200:
            print(f"note: GET /metrics answered {status}: spans dropped unknown")
            return
        drops = dropped_spans(body.decode())
        if drops:
            print("note: **spans dropped** by the gateway: " + ", ".join(f"{v:,.0f} {k}" for k, v in sorted(drops.items()))
                  + " (the export did not keep up: the cost is understated)")
        else:
            print("note: no span dropped (gatehouse_opentelemetry_spans_dropped_total absent or 0)")


def run(s: Scenario, proxy: str, admin: str | None, targets: str | None, otlp: str | None = None) -> None:
    if s.otlp:
        check_otlp(s, proxy, otlp)
    if s.routes > 1:
        check_g2(s, proxy, targets or "")
        return
    if s.plugins:
        expect(proxy, "GET", "/", 401, hello=False)
        resp = expect(proxy, "GET", "/", 200, {"apikey": scenarios.API_KEY})
        if not (resp.get("X-RateLimit-Limit-Second") or resp.get("RateLimit-Limit")):
            raise CheckFailed("rate-limiting did not run (no X-RateLimit-Limit-Second / RateLimit-Limit header)")
        return
    if s.wrk_script == "post-1k.lua":
        expect(proxy, "POST", "/", 200, {"Content-Type": "text/plain"}, BODY_1K)
    else:
        resp = expect(proxy, "GET", "/", 200)
        if s.expect_header:
            name, n = s.expect_header
            got = header_values(resp, name)
            if got != n:
                raise CheckFailed(f"response has {got} '{name}' value(s), expected {n}: the filter chain did not run")
    if s.chain:
        check_chain_via_admin(s, admin)
    if s.upstream_targets:
        check_upstream_health(s, admin)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("id")
    p.add_argument("--proxy")
    p.add_argument("--admin")
    p.add_argument("--targets")
    p.add_argument("--otlp", help="the bench's OTLP receiver (O1 scenarios)")
    p.add_argument("--after", action="store_true", help="after the runs: notes only (O1 scenarios)")
    p.add_argument("--tls", action="store_true", help="the proxy speaks HTTPS (self-signed certificate, not verified)")
    a = p.parse_args()
    if a.tls:
        TLS_HOSTS.add(a.proxy)
    try:
        if a.after:
            after_runs(scenarios.get(a.id), a.admin, a.otlp)
            return 0
        if not a.proxy:
            p.error("--proxy is required")
        run(scenarios.get(a.id), a.proxy, a.admin, a.targets, a.otlp)
    except CheckFailed as e:
        print(f"pre-flight check failed: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
