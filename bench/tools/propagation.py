"""Propagation latency between two Gatehouse nodes on one PostgreSQL database (bench/propagation.sh): N routes are
created one after the other, alternately through each node's Admin API; after each 201 the OTHER node's proxy is
polled until the new route answers (anything but the 404 "no Route matched"; the service points at a closed port,
so a served route answers 502). Prints a markdown table of the percentiles of that delay."""
from __future__ import annotations

import argparse
import http.client
import json
import sys
import time


class Client:
    def __init__(self, hostport: str):
        host, port = hostport.rsplit(":", 1)
        self.conn = http.client.HTTPConnection(host, int(port), timeout=30)

    def call(self, method: str, path: str, body: dict | None = None) -> int:
        data = json.dumps(body).encode() if body is not None else None
        self.conn.request(method, path, body=data, headers={"Content-Type": "application/json"} if data else {})
        response = self.conn.getresponse()
        response.read()
        return response.status


def percentile(sorted_ms: list[float], p: float) -> float:
    return sorted_ms[min(len(sorted_ms) - 1, int(len(sorted_ms) * p))]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--a-admin", required=True)
    p.add_argument("--a-proxy", required=True)
    p.add_argument("--b-admin", required=True)
    p.add_argument("--b-proxy", required=True)
    p.add_argument("--writes", type=int, default=1000)
    a = p.parse_args()
    admin = [Client(a.a_admin), Client(a.b_admin)]
    proxy = [Client(a.a_proxy), Client(a.b_proxy)]
    if admin[0].call("POST", "/services", {"name": "prop", "url": "http://127.0.0.1:9/"}) != 201:
        print("could not create the service", file=sys.stderr)
        return 1
    delays: list[float] = []
    polls = 0
    for i in range(a.writes):
        writer, other = i % 2, 1 - i % 2
        status = admin[writer].call("POST", "/services/prop/routes", {"name": f"p{i}", "paths": [f"/p{i}"]})
        if status != 201:
            print(f"write {i}: {status}", file=sys.stderr)
            return 1
        t0 = time.perf_counter()
        deadline = t0 + 30
        while proxy[other].call("GET", f"/p{i}") == 404:
            polls += 1
            if time.perf_counter() > deadline:
                print(f"write {i} not served by the other node after 30 s", file=sys.stderr)
                return 1
            time.sleep(0.001)
        delays.append((time.perf_counter() - t0) * 1000)
    s = sorted(delays)
    print(f"| writes | p50 | p90 | p99 | max | mean | polls |")
    print(f"|---|---|---|---|---|---|---|")
    print(f"| {len(s)} | {percentile(s, .5):.1f} ms | {percentile(s, .9):.1f} ms | {percentile(s, .99):.1f} ms | "
          f"{s[-1]:.1f} ms | {sum(s) / len(s):.1f} ms | {polls} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
