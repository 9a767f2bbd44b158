"""Writes everything one Gatehouse scenario needs into its own directory:

    DIR/kong.yml          declarative config (services, routes, filter_chains, plugins, consumers)
    DIR/gatehouse.conf    kong.conf-syntax file for `gatehouse start -c`
    DIR/filters/*.wasm    wasm_filters_path (only when the scenario has a chain)
    DIR/targets.txt       "host path" pairs the load generator spreads traffic over (G2)

and prints `KEY=value` lines (the wrk environment) on stdout for run.sh. Exit code 3 with a
one-line reason on stderr means "scenario not available" (e.g. a filter module is missing).

usage: prepare.py ID --dir DIR --upstream-port N --proxy-port N --admin-port N --filters-src DIR [--otlp-port N]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys

import scenarios
from scenarios import Scenario


def q(value: str) -> str:
    """A YAML double-quoted scalar (JSON string syntax is valid YAML)."""
    return json.dumps(value)


def route_lines(name: str, paths: list[str], hosts: list[str] | None, indent: str) -> list[str]:
    lines = [f"{indent}- name: {q(name)}", f"{indent}  paths: [{', '.join(q(p) for p in paths)}]"]
    if hosts:
        lines.append(f"{indent}  hosts: [{', '.join(q(h) for h in hosts)}]")
    return lines


def g2_route(i: int, routes: int = scenarios.G2_ROUTES) -> tuple[str, str]:
    """(host, prefix path) of route i of G2 (or G2-100k). Zero-padded to one width (5 digits, more for a larger table)
    so no path is a prefix of another."""
    width = max(5, len(str(routes - 1)))
    return f"r{i:0{width}d}.bench.test", f"/r{i:0{width}d}"


def g2_hot(routes: int = scenarios.G2_ROUTES, hot: int = scenarios.G2_HOT_ROUTES) -> list[int]:
    step = routes // hot
    return [k * step + step // 2 for k in range(hot)]


def upstream_lines(name: str, upstream_port: int, targets: int, interval: int) -> list[str]:
    """A top-level `upstreams:` entry: round-robin over 127.0.0.1 .. 127.0.0.<targets> on one port (the
    upstream nginx listens on all of them), active HTTP checks of `/` every `interval` s (0: checks off)."""
    out = ["upstreams:", f"  - name: {q(name)}", f"    algorithm: {q('round-robin')}"]
    if interval > 0:
        out += ["    healthchecks:", "      active:", "        type: \"http\"", "        http_path: \"/\"",
                "        healthy:", f"          interval: {interval}", "          successes: 1",
                "        unhealthy:", f"          interval: {interval}", "          http_failures: 1",
                "          tcp_failures: 1", "          timeouts: 1"]
    out.append("    targets:")
    out += [f"      - target: {q(f'127.0.0.{i}:{upstream_port}')}" for i in range(1, targets + 1)]
    return out


def otel_lines(s: Scenario, otlp_port: int) -> list[str]:
    """O1: a global opentelemetry plugin (Kong's defaults otherwise: batches of 200 spans, 1 s coalescing) exporting to
    the bench's receiver, on the scenario's own path."""
    return ["plugins:", f"  - name: {q('opentelemetry')}", "    config:",
            f"      traces_endpoint: {q(f'http://127.0.0.1:{otlp_port}{s.otlp_path}')}",
            f"      sampling_rate: {s.otel_sampling}"]


def kong_yml(s: Scenario, upstream_port: int, otlp_port: int = 0) -> str:
    host = f"127.0.0.1:{upstream_port}"
    head = ['_format_version: "3.0"']
    if s.otlp:
        if not otlp_port:
            print(f"{s.id} needs the bench's OTLP receiver (--otlp-port)", file=sys.stderr)
            raise SystemExit(3)
        head += otel_lines(s, otlp_port)
    if s.upstream_targets:
        head += upstream_lines(scenarios.U1_UPSTREAM, upstream_port, s.upstream_targets, s.check_interval)
        host = scenarios.U1_UPSTREAM
    out = head + ["services:", f"  - name: {q('bench')}", f"    url: {q(f'http://{host}')}", "    routes:"]
    if s.routes > 1:
        for i in range(s.routes):
            host, path = g2_route(i, s.routes)
            out += route_lines(path[1:], [path], [host], "      ")
        return "\n".join(out) + "\n"
    out += route_lines("bench", ["/"], None, "      ")
    if s.chain:
        out += ["        filter_chains:", f"          - name: {q('bench-' + s.id.lower())}",
                "            filters:"]
        out += [f"              - name: {q(f)}" for f in s.chain]
    if s.plugins:
        out += ["        plugins:",
                f"          - name: {q('key-auth')}",
                "            config:",
                f"              key_names: [{q('apikey')}]",
                f"          - name: {q('rate-limiting')}",
                "            config:",
                "              second: 100000000",
                f"              policy: {q('local')}",
                "consumers:",
                f"  - username: {q('bench')}",
                "    keyauth_credentials:",
                f"      - key: {q(scenarios.API_KEY)}"]
    return "\n".join(out) + "\n"


def database_lines(s: Scenario, d: str) -> list[str]:
    """DB-less from the generated kong.yml, or PostgreSQL (bench/lib/postgres.sh's server, BENCH_PG_PORT; the database
    BENCH_PG_DATABASE) whose entities bench/tools/pg_seed.py writes through the Admin API once the node runs."""
    if s.database == "off":
        return ["database = off", f"declarative_config = {os.path.join(d, 'kong.yml')}"]
    port = os.environ.get("BENCH_PG_PORT")
    if not port:
        print(f"{s.id} needs the bench's PostgreSQL server (BENCH_PG_PORT)", file=sys.stderr)
        raise SystemExit(3)
    return ["database = postgres", "pg_host = 127.0.0.1", f"pg_port = {port}",
            f"pg_user = {os.environ.get('BENCH_PG_USER', 'gatehouse')}",
            f"pg_database = {os.environ.get('BENCH_PG_DATABASE', 'postgres')}"]


def gatehouse_conf(s: Scenario, d: str, proxy_port: int, admin_port: int, tls_dir: str = "") -> str:
    lines = [f"# generated by bench/tools/prepare.py for scenario {s.id}",
             f"prefix = {os.path.join(d, 'prefix')}",
             f"proxy_listen = 127.0.0.1:{proxy_port}{' ssl' if s.tls else ''}",
             f"admin_listen = 127.0.0.1:{admin_port}",
             "admin_gui_listen = off",
             *database_lines(s, d),
             "log_level = warn",
             "proxy_access_log = off",
             f"wasm = {'on' if s.wasm else 'off'}"]
    if s.tls:
        lines += [f"ssl_cert = {os.path.join(tls_dir, 'cert.pem')}", f"ssl_cert_key = {os.path.join(tls_dir, 'key.pem')}"]
    if s.otlp:
        lines.append("tracing_instrumentations = all")
    if s.wasm:
        lines.append(f"wasm_filters_path = {os.path.join(d, 'filters')}")
    extra = os.environ.get("BENCH_GATEHOUSE_CONF_EXTRA", "").strip()
    if extra:  # experiments: extra `key = value` lines, separated by newlines or ';'
        lines += ["# BENCH_GATEHOUSE_CONF_EXTRA"] + [l.strip() for l in extra.replace(";", "\n").splitlines() if l.strip()]
    return "\n".join(lines) + "\n"


def copy_filters(s: Scenario, d: str, src: str) -> None:
    dest = os.path.join(d, "filters")
    os.makedirs(dest, exist_ok=True)
    for name in sorted(set(s.chain)):
        source = os.path.join(src, scenarios.module_source(name))
        if not os.path.isfile(source):
            print(f"filter module {source} is missing (build filters first: filters/build.sh)", file=sys.stderr)
            raise SystemExit(3)
        shutil.copyfile(source, os.path.join(dest, f"{name}.wasm"))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("id")
    p.add_argument("--dir", required=True)
    p.add_argument("--upstream-port", type=int, required=True)
    p.add_argument("--proxy-port", type=int, required=True)
    p.add_argument("--admin-port", type=int, required=True)
    p.add_argument("--filters-src", required=True)
    p.add_argument("--otlp-port", type=int, default=0, help="the bench's OTLP/HTTP receiver, for the O1 scenarios")
    p.add_argument("--tls-dir", default="", help="holds cert.pem and key.pem (the run's certificate), for tls scenarios")
    a = p.parse_args()
    s = scenarios.get(a.id)
    if s.kind != "gatehouse":
        print(f"{s.id} is not a Gatehouse scenario", file=sys.stderr)
        return 2
    if s.tls and not os.path.isfile(os.path.join(a.tls_dir, "cert.pem")):
        print(f"{s.id} needs the run's certificate (--tls-dir with cert.pem and key.pem)", file=sys.stderr)
        return 3
    os.makedirs(os.path.join(a.dir, "prefix"), exist_ok=True)
    if s.chain:
        copy_filters(s, a.dir, a.filters_src)
    with open(os.path.join(a.dir, "kong.yml"), "w") as f:
        f.write(kong_yml(s, a.upstream_port, a.otlp_port))
    with open(os.path.join(a.dir, "gatehouse.conf"), "w") as f:
        f.write(gatehouse_conf(s, a.dir, a.proxy_port, a.admin_port, a.tls_dir))
    targets = os.path.join(a.dir, "targets.txt")
    with open(targets, "w") as f:
        for i in (g2_hot(s.routes, s.hot_routes) if s.routes > 1 else []):
            host, path = g2_route(i, s.routes)
            f.write(f"{host} {path}\n")
    print(f"BENCH_TARGETS={targets}")
    print(f"BENCH_APIKEY={scenarios.API_KEY}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
