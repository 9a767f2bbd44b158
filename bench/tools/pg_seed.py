"""G1-pg: writes G1's service and route through a running node's Admin API (the node stores them in PostgreSQL),
waits until the proxy serves them, then checks that proxying does not touch the database: the server's committed
transactions (pg_stat_database) grow by far fewer than the requests sent (only the node's heartbeat and polls).
Exit 0 when all holds; prints what it measured."""
from __future__ import annotations

import argparse
import http.client
import json
import subprocess
import sys
import time

REQUESTS = 2000


def call(hostport: str, method: str, path: str, body: dict | None = None) -> tuple[int, bytes]:
    host, port = hostport.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        data = json.dumps(body).encode() if body is not None else None
        conn.request(method, path, body=data, headers={"Content-Type": "application/json"} if data else {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def commits(pg_port: int, pg_user: str) -> int:
    out = subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(pg_port), "-U", pg_user, "-d", "postgres", "-Atc",
                          "SELECT sum(xact_commit) FROM pg_stat_database"], check=True, capture_output=True, text=True)
    return int(out.stdout.strip())


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--admin", required=True)
    p.add_argument("--proxy", required=True)
    p.add_argument("--upstream-port", type=int, required=True)
    p.add_argument("--pg-port", type=int, required=True)
    p.add_argument("--pg-user", default="gatehouse")
    a = p.parse_args()
    for path, body in (("/services", {"name": "bench", "url": f"http://127.0.0.1:{a.upstream_port}/"}),
                       ("/services/bench/routes", {"name": "bench", "paths": ["/"]})):
        status, answer = call(a.admin, "POST", path, body)
        if status != 201:
            print(f"POST {path}: {status} {answer[:200]!r}")
            return 1
    deadline = time.monotonic() + 30
    while call(a.proxy, "GET", "/")[0] != 200:
        if time.monotonic() > deadline:
            print("the proxy does not serve the route written through the Admin API")
            return 1
        time.sleep(0.05)
    before = commits(a.pg_port, a.pg_user)
    host, port = a.proxy.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    for _ in range(REQUESTS):
        conn.request("GET", "/")
        conn.getresponse().read()
    conn.close()
    time.sleep(1.5)  # backends report their statistics about once a second
    delta = commits(a.pg_port, a.pg_user) - before
    print(f"{REQUESTS} proxied requests, {delta} transactions committed on PostgreSQL meanwhile")
    if delta >= REQUESTS // 10:
        print("the proxy path touches the database")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
