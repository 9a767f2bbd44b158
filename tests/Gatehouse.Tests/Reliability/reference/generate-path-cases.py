#!/usr/bin/env python3
"""Regenerates path-cases.tsv: for every case, the status and the exact request target the upstream must receive.

Two references, both computed here and never by Gatehouse code:
  * nginx: a real nginx (`proxy_pass http://upstream;`, which forwards the target as received) in front of a socket
    server that records the request line. nginx decides which targets are refused with 400 before Kong runs.
  * Kong: the target Kong sends is `escape(get_upstream_uri(normalize(path, true))) .. "?" .. args`
    (kong/tools/uri.lua, kong/router/utils.lua, kong/runloop/handler.lua), re-implemented below from their
    documented behaviour. Where it differs from what plain nginx forwards, the note column says so.

Usage: generate-path-cases.py [nginx binary]   (needs nginx, e.g. apt-get install nginx-light; writes the TSV beside it)
The C# test (PathCaseTests) only reads the TSV: it does not need nginx.
"""
import os, re, socket, subprocess, sys, tempfile, threading, time
sys.dont_write_bytecode = True

HERE = os.path.dirname(os.path.abspath(__file__))
NGINX = sys.argv[1] if len(sys.argv) > 1 else "nginx"

# ---- Kong's rules -------------------------------------------------------------------------------------------------
RESERVED = set(b"!*'();:@&=+$,/?%#[]")
WIRE_SAFE = set(b"!#$&'()*+,/:;=?@[]-_.~%ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")

def kong_normalize(p: bytes) -> bytes:
    # 1. escapes of reserved characters stay (upper case), every other escape is decoded
    def dec(m):
        b = int(m.group(1), 16)
        return m.group(0).upper() if b in RESERVED else bytes([b])
    p = re.sub(rb"%([0-9A-Fa-f]{2})", dec, p)
    # 2. dot segments resolved, slashes merged (segment by segment, as the Lua loop)
    out, segs = [], p.split(b"/")[1:]
    trailing = False
    for i, s in enumerate(segs):
        last = i == len(segs) - 1
        if s in (b"", b"."):
            trailing = last
        elif s == b"..":
            if out: out.pop()
            trailing = last
        else:
            out.append(s); trailing = False
    r = b"".join(b"/" + s for s in out) + (b"/" if trailing else b"")
    return r or b"/"

def kong_escape(p: bytes) -> bytes:
    return b"".join(bytes([c]) if c in WIRE_SAFE else b"%%%02X" % c for c in p)

def upstream_v0(strip, prefix_len, req, base):
    postfix = req[prefix_len:] if strip else req[1:]
    if postfix in (b".", b".."): postfix = b""
    elif postfix.startswith(b"./"): postfix = postfix[2:]
    elif postfix.startswith(b"../"): postfix = postfix[3:]
    if base.endswith(b"/"):
        if not strip: return base + req[1:]
        if postfix == b"": return b"/" if base == b"/" else (base if req.endswith(b"/") else base[:-1])
        return base[:-1] + postfix if postfix.startswith(b"/") else base + postfix
    if not strip: return base if req == b"/" else base + req
    if postfix == b"": return base + b"/" if len(req) > 1 and req.endswith(b"/") else base
    return base + postfix if postfix.startswith(b"/") else base + b"/" + postfix

def upstream_v1(strip, prefix_len, req, base):
    # Gatehouse keeps the traditional router's v1 (Kong's traditional_compatible treats v1 as v0): deliberate
    postfix = req[prefix_len:] if strip else req[1:]
    if postfix in (b".", b".."): postfix = b""
    elif postfix.startswith(b"./"): postfix = postfix[2:]
    elif postfix.startswith(b"../"): postfix = postfix[3:]
    if not strip: return base + req[1:]
    if base.endswith(b"/") and postfix.startswith(b"/"): return base[:-1] + postfix
    return base + postfix

# host -> (service path, route matcher, strip_path, path_handling); the C# test creates the same entities
ROUTES = {
    b"plain.test":        (b"/",      None,                        True,  "v0"),
    b"strip.test":        (b"/base",  b"/api",                     True,  "v0"),
    b"nostrip.test":      (b"/base",  b"/api",                     False, "v0"),
    b"slash.test":        (b"/base/", b"/api",                     True,  "v0"),
    b"v1.test":           (b"/base",  b"/api",                     True,  "v1"),
    b"v1nostrip.test":    (b"/base",  b"/api",                     False, "v1"),
    b"regex.test":        (b"/svc",   rb"/users/(?P<id>[^/]+)",    True,  "v0"),
    b"regexnostrip.test": (b"/svc",   rb"/users/(?P<id>[^/]+)",    False, "v0"),
    b"encoded.test":      (b"/",      b"/a%2Fb",                   False, "v0"),
    b"svcenc.test":       (b"/b%20a%2Fse", b"/api",                True,  "v0"),
}

def kong_expect(host, target):
    """(status, upstream target or None)"""
    if target == b"*": return 400, None
    t = target
    m = re.match(rb"^[A-Za-z][A-Za-z0-9+.-]*://[^/?]*", t)
    if m: t = t[m.end():] or b"/"
    if t.startswith(b"?"): t = b"/" + t
    q = t.find(b"?")
    path, query = (t, None) if q < 0 else (t[:q], t[q + 1:])
    norm = kong_normalize(path)
    base, matcher, strip, handling = ROUTES[host]
    if matcher is None: prefix_len = -1
    elif matcher.startswith(b"/users"):
        mm = re.match(matcher, norm)
        if not mm: return 404, None
        prefix_len = mm.end()
    else:
        if not norm.startswith(matcher): return 404, None
        prefix_len = len(matcher)
    do_strip = strip and prefix_len >= 0
    up = (upstream_v1 if handling == "v1" else upstream_v0)(do_strip, max(prefix_len, 0), norm, base)
    up = kong_escape(up)
    if query is not None: up += b"?" + query
    return 200, up

# ---- nginx ---------------------------------------------------------------------------------------------------------
def recorder(sock):
    while True:
        c, _ = sock.accept()
        def serve(c=c):
            buf = b""
            while b"\r\n\r\n" not in buf:
                d = c.recv(65536)
                if not d: return
                buf += d
            line = buf.split(b"\r\n", 1)[0]
            t = line[line.index(b" ") + 1:line.rindex(b" ")]
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(t), t)); c.close()
        threading.Thread(target=serve, daemon=True).start()

def send(port, method, target, host):
    s = socket.create_connection(("127.0.0.1", port)); s.settimeout(5)
    s.sendall(method + b" " + target + b" HTTP/1.1\r\nHost: " + host + b"\r\nConnection: close\r\n\r\n")
    data = b""
    while True:
        d = s.recv(65536)
        if not d: break
        data += d
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), body

def esc(b: bytes) -> str:
    return "".join(chr(c) if 0x21 <= c <= 0x7E and c != 0x5C else "\\\\" if c == 0x5C else "\\x%02x" % c for c in b)

def main():
    from cases import CASES, OVERRIDES
    up = socket.socket(); up.bind(("127.0.0.1", 0)); up.listen(64)
    threading.Thread(target=recorder, args=(up,), daemon=True).start()
    work = tempfile.mkdtemp()
    lsock = socket.socket(); lsock.bind(("127.0.0.1", 0)); port = lsock.getsockname()[1]; lsock.close()
    conf = os.path.join(work, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""worker_processes 1; daemon off; error_log {work}/error.log; pid {work}/nginx.pid;
events {{}}
http {{ access_log off; client_body_temp_path {work}; proxy_temp_path {work};
  server {{ listen 127.0.0.1:{port}; location / {{ proxy_pass http://127.0.0.1:{up.getsockname()[1]}; }} }} }}
""")
    ng = subprocess.Popen([NGINX, "-c", conf, "-p", work])
    time.sleep(1)
    rows = ["# name\thost\tmethod\ttarget\tstatus\tupstream\tnginx_status\tnginx_upstream\treference"]
    try:
        for name, host, target, *rest in CASES:
            method = rest[0] if rest else b"GET"
            n_status, n_body = send(port, method, target, host)
            k_status, k_up = kong_expect(host, target)
            if n_status >= 400: k_status, k_up = n_status, None     # nginx refuses (400, 414) before Kong runs
            if k_status == 200 and n_status == 200 and host == b"plain.test":
                ref = "nginx" if k_up == n_body else "kong: normalize differs from nginx proxy_pass"
            elif n_status >= 400:
                ref = f"nginx {n_status}"
            else:
                ref = "kong: route " + host.decode() + (" (v1: Gatehouse's own, Kong treats v1 as v0)" if b"v1" in host else "")
            if name in OVERRIDES:
                k_status, k_up, why = OVERRIDES[name]
                ref = why + f" (nginx: {n_status})"
            rows.append("\t".join([name, host.decode(), method.decode(), esc(target), str(k_status),
                                   esc(k_up) if k_up is not None else "-", str(n_status),
                                   esc(n_body) if n_status == 200 else "-", ref]))
    finally:
        ng.terminate(); ng.wait()
    with open(os.path.join(HERE, "path-cases.tsv"), "w") as f:
        f.write("\n".join(rows) + "\n")
    print(f"{len(rows) - 1} cases written")

if __name__ == "__main__":
    sys.path.insert(0, HERE)
    main()
