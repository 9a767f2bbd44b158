"""The O1 scenarios' local OTLP/HTTP receiver: accepts `POST <anything>/v1/traces` and answers 200 with an empty
body, fast enough not to be the bottleneck (HTTP/1.1 keep-alive, one thread per connection; the exporter sends its
batches one at a time on one connection). It does not decode what it receives while the load runs: it keeps the raw
bodies of the last KEEP posts per path and counts posts and bytes. The pre-flight asks it, over the same port:

    GET /stats?path=P                   {"posts": n, "bytes": n} received on path P
    GET /traces?path=P&since=N          {"posts": n, "traces": {trace_id_hex: [span name, ...]}} of the kept bodies
                                        from post N on (the spans decoded from the OTLP protobuf)

usage: otlp_receiver.py --port N  (prints "ready" when listening)
"""
from __future__ import annotations

import argparse
import collections
import http.server
import json
import sys
import threading
import urllib.parse

KEEP = 512  # bodies kept per path (a batch is up to 200 spans, a few hundred bytes each)


def varint(buf: bytes, i: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, i
        shift += 7


def fields(buf: bytes):
    """(field number, wire type, value) of one protobuf message; LEN values are bytes, others ints."""
    i = 0
    while i < len(buf):
        key, i = varint(buf, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = varint(buf, i)
        elif wire == 1:
            value, i = int.from_bytes(buf[i:i + 8], "little"), i + 8
        elif wire == 2:
            n, i = varint(buf, i)
            value, i = buf[i:i + n], i + n
        elif wire == 5:
            value, i = int.from_bytes(buf[i:i + 4], "little"), i + 4
        else:
            raise ValueError(f"wire type {wire} not expected in OTLP traces")
        yield number, wire, value


def spans(body: bytes):
    """(trace id hex, span name) of every span of an ExportTraceServiceRequest (opentelemetry-proto: resource_spans = 1;
    ResourceSpans.scope_spans = 2; ScopeSpans.spans = 2; Span.trace_id = 1, name = 5)."""
    for n1, _, resource_spans in fields(body):
        if n1 != 1:
            continue
        for n2, _, scope_spans in fields(resource_spans):
            if n2 != 2:
                continue
            for n3, _, span in fields(scope_spans):
                if n3 != 2:
                    continue
                trace_id, name = b"", b""
                for n4, _, v in fields(span):
                    if n4 == 1:
                        trace_id = v
                    elif n4 == 5:
                        name = v
                yield trace_id.hex(), name.decode("utf-8", "replace")


class Store:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.posts: dict[str, int] = collections.defaultdict(int)
        self.bytes: dict[str, int] = collections.defaultdict(int)
        self.bodies: dict[str, collections.deque] = collections.defaultdict(lambda: collections.deque(maxlen=KEEP))

    def add(self, path: str, body: bytes) -> None:
        with self.lock:
            self.bodies[path].append((self.posts[path], body))
            self.posts[path] += 1
            self.bytes[path] += len(body)

    def stats(self, path: str) -> dict:
        with self.lock:
            return {"posts": self.posts.get(path, 0), "bytes": self.bytes.get(path, 0)}

    def traces(self, path: str, since: int) -> dict:
        with self.lock:
            kept = [b for n, b in self.bodies.get(path, ()) if n >= since]
            posts = self.posts.get(path, 0)
        out: dict[str, list[str]] = {}
        for body in kept:
            for trace_id, name in spans(body):
                out.setdefault(trace_id, []).append(name)
        return {"posts": posts, "traces": out}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    store: Store

    def log_message(self, format, *args):  # noqa: A002 - quiet: nothing per request
        pass

    def read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def answer(self, status: int, body: bytes = b"", content_type: str = "application/json") -> None:
        self.send_response_only(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def do_POST(self) -> None:  # noqa: N802
        body = self.read_body()
        path = urllib.parse.urlsplit(self.path).path
        if not path.endswith("/v1/traces"):
            self.answer(404)
            return
        self.store.add(path, body)
        self.answer(200, content_type="application/x-protobuf")

    def do_GET(self) -> None:  # noqa: N802
        url = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        if url.path == "/stats":
            self.answer(200, json.dumps(self.store.stats(q.get("path", "/v1/traces"))).encode())
        elif url.path == "/traces":
            self.answer(200, json.dumps(self.store.traces(q.get("path", "/v1/traces"), int(q.get("since", 0)))).encode())
        else:
            self.answer(404)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--host", default="127.0.0.1")
    a = p.parse_args()
    Handler.store = Store()
    server = http.server.ThreadingHTTPServer((a.host, a.port), Handler)
    server.daemon_threads = True
    print("ready", flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
