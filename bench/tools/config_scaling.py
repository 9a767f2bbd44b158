#!/usr/bin/env python3
"""POST /config scaling: generates declarative configs of about 1, 2, 4 and 8 MB (services with one route
each, every tenth service with a plugin) and times POST /config against a running DB-less gateway. While each
upload runs, a second thread polls Admin `GET /` and records its slowest answer: a big load must not stall the
Admin API. Prints one Markdown table row per size. Traffic goes only to the given loopback Admin URL.

    bench/tools/config_scaling.py [--admin http://127.0.0.1:8001] [--sizes 1,2,4,8] [--reps 3]
    bench/tools/config_scaling.py --write-only DIR        # just write the files (for `gatehouse config parse`)
"""
import argparse
import json
import os
import sys
import threading
import time
import urllib.error
import urllib.request

SERVICE_BYTES = 205  # measured size of one generated service entry (with its route), to pick the count


def service_entry(i: int) -> str:
    lines = [
        f"  - name: svc-{i:06d}",
        f"    url: http://upstream-{i % 50}.internal:8080/v{i % 3}",
        "    routes:",
        f"      - name: route-{i:06d}",
        f"        paths: [/s{i:06d}]",
        f"        hosts: [h{i:06d}.example.test]",
    ]
    if i % 10 == 0:
        lines += ["    plugins:", "      - name: rate-limiting", "        config: {minute: 100, policy: local}"]
    return "\n".join(lines) + "\n"


def config_of(services: int) -> str:
    return '_format_version: "3.0"\nservices:\n' + "".join(service_entry(i) for i in range(services))


def config_of_size(mb: float) -> tuple[str, int]:
    target = int(mb * 1024 * 1024)
    n = max(1, target // SERVICE_BYTES)
    text = config_of(n)
    while len(text) < target:  # top up to the target size
        n += max(1, (target - len(text)) // SERVICE_BYTES)
        text = config_of(n)
    return text, n


def request(url: str, method: str = "GET", body: bytes | None = None, ctype: str | None = None, timeout: float = 600):
    req = urllib.request.Request(url, data=body, method=method)
    if ctype:
        req.add_header("Content-Type", ctype)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def poll_root(admin: str, stop: threading.Event, worst: list[float]) -> None:
    while not stop.is_set():
        t0 = time.perf_counter()
        try:
            request(admin + "/", timeout=30)
        except (urllib.error.URLError, TimeoutError):
            pass
        worst[0] = max(worst[0], time.perf_counter() - t0)
        stop.wait(0.05)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--admin", default=os.environ.get("GATEHOUSE_ADMIN", "http://127.0.0.1:8001"))
    ap.add_argument("--sizes", default="1,2,4,8")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--write-only", metavar="DIR")
    args = ap.parse_args()
    sizes = [float(s) for s in args.sizes.split(",")]

    if args.write_only:
        os.makedirs(args.write_only, exist_ok=True)
        for mb in sizes:
            text, n = config_of_size(mb)
            path = os.path.join(args.write_only, f"config-{mb:g}mb.yml")
            with open(path, "w") as f:
                f.write(text)
            print(f"{path}: {len(text)} bytes, {n} services, {n} routes")
        return 0

    print("| size | services | routes | plugins | POST /config (median of %d) | per MB | slowest Admin GET / during the load |" % args.reps)
    print("|---|---|---|---|---|---|---|")
    for mb in sizes:
        text, n = config_of_size(mb)
        body = text.encode()
        times, worst = [], [0.0]
        for _ in range(args.reps):
            stop = threading.Event()
            poller = threading.Thread(target=poll_root, args=(args.admin, stop, worst), daemon=True)
            poller.start()
            t0 = time.perf_counter()
            status, answer = request(args.admin + "/config", "POST", body, "application/x-yaml")
            times.append(time.perf_counter() - t0)
            stop.set()
            poller.join()
            if status != 201:
                print(f"POST /config of {len(body)} bytes answered {status}: {answer[:300]!r}", file=sys.stderr)
                return 1
        times.sort()
        med = times[len(times) // 2]
        print(f"| {len(body) / 1048576:.1f} MB | {n} | {n} | {(n + 9) // 10} | {med:.2f} s | {med / (len(body) / 1048576):.2f} s | {worst[0] * 1000:.0f} ms |")
        sys.stdout.flush()
    # Leave the gateway with an empty config.
    request(args.admin + "/config", "POST", b'_format_version: "3.0"\n', "application/x-yaml")
    return 0


if __name__ == "__main__":
    sys.exit(main())
