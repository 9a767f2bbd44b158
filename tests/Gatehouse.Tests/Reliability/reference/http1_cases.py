"""The crafted HTTP/1.1 requests of the reliability suite, and the harness that records what a proxy does with them.

    python3 http1_cases.py nginx      # runs nginx (proxy_pass to a recording upstream), records its answers
    python3 http1_cases.py gatehouse  # the same against a running Gatehouse on 127.0.0.1:18000 (route / to :19001)

Both write their observations to observed-<target>.json; `python3 http1_cases.py table` then merges them into
http1-cases.json, the table the C# theory (Http1CaseTests) reads: per case the request bytes, what Gatehouse must
answer and forward (`expect`), what nginx answered and forwarded (`nginx`), and `differs` where the two disagree
on purpose. Merging refuses to write a table where they disagree without a `differs` entry in DIFFERS below.
Only the client-controlled part of the forwarded request is compared: the request line, the header lines except
the ones each proxy sets itself (GATEWAY_SET), and the body after de-chunking.
"""
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
GATEWAY_SET = {"host", "connection", "x-real-ip", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host",
               "x-forwarded-port", "x-forwarded-path", "x-forwarded-prefix", "via", "content-length",
               "transfer-encoding"}


def case(cid, group, raw, requests=1):
    return {"id": cid, "group": group, "request": raw, "requests": requests}


def cases():
    out = []
    H = "Host: a\r\n"

    # :: request line
    for m in ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE", "PROPFIND", "FOO", "get", "G@T",
              "GET/", "M-SEARCH", "X" * 40]:
        body = "Content-Length: 0\r\n" if m in ("POST", "PUT") else ""
        out.append(case(f"method-{m[:12]}", "request-line", f"{m} /m HTTP/1.1\r\n{H}{body}\r\n"))
    for v in ["HTTP/1.1", "HTTP/1.0", "HTTP/1.2", "HTTP/2.0", "HTTP/3.0", "HTTP/0.9", "HTTP/1.10", "http/1.1",
              "HTTP/1", "HTTP/11", "HTTP/1.1 ", "HTTPS/1.1", "HTTP/9.9", "HTTP/1.1x"]:
        out.append(case(f"version-{v.strip().replace('/', '_') or 'space'}{'-sp' if v.endswith(' ') else ''}",
                        "request-line", f"GET /v {v}\r\n{H}\r\n"))
    out += [
        case("http10-no-host", "request-line", "GET /v HTTP/1.0\r\n\r\n"),
        case("http10-keepalive", "request-line", "GET /v HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"),
        case("http09-simple", "request-line", "GET /v\r\n\r\n"),
        case("absolute-form", "request-line", "GET http://a/abs HTTP/1.1\r\nHost: a\r\n\r\n"),
        case("absolute-form-other-host", "request-line", "GET http://b/abs HTTP/1.1\r\nHost: a\r\n\r\n"),
        case("absolute-form-https", "request-line", "GET https://a/abs HTTP/1.1\r\nHost: a\r\n\r\n"),
        case("absolute-form-no-path", "request-line", "GET http://a HTTP/1.1\r\nHost: a\r\n\r\n"),
        case("asterisk-options", "request-line", "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"),
        case("asterisk-get", "request-line", "GET * HTTP/1.1\r\nHost: a\r\n\r\n"),
        case("authority-connect", "request-line", "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n"),
        case("authority-get", "request-line", "GET a:443 HTTP/1.1\r\nHost: a\r\n\r\n"),
        case("double-space-after-method", "request-line", "GET  /s HTTP/1.1\r\nHost: a\r\n\r\n"),
        case("double-space-before-version", "request-line", "GET /s  HTTP/1.1\r\nHost: a\r\n\r\n"),
        case("space-in-target", "request-line", "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n"),
        case("tab-separators", "request-line", "GET\t/t\tHTTP/1.1\r\nHost: a\r\n\r\n"),
        case("leading-space", "request-line", " GET /t HTTP/1.1\r\nHost: a\r\n\r\n"),
        case("leading-crlf", "request-line", "\r\nGET /t HTTP/1.1\r\nHost: a\r\n\r\n"),
        case("leading-2crlf", "request-line", "\r\n\r\nGET /t HTTP/1.1\r\nHost: a\r\n\r\n"),
        case("bare-lf-everywhere", "request-line", "GET /lf HTTP/1.1\nHost: a\n\n"),
        case("bare-lf-request-line", "request-line", "GET /lf HTTP/1.1\nHost: a\r\n\r\n"),
        case("bare-cr-request-line", "request-line", "GET /cr HTTP/1.1\rHost: a\r\n\r\n"),
        case("bare-cr-in-target", "request-line", "GET /c\rr HTTP/1.1\r\nHost: a\r\n\r\n"),
        case("nul-in-target", "request-line", "GET /n\x00 HTTP/1.1\r\nHost: a\r\n\r\n"),
        case("nul-in-method", "request-line", "G\x00T /n HTTP/1.1\r\nHost: a\r\n\r\n"),
        case("nul-in-version", "request-line", "GET /n HTTP/1.\x001\r\nHost: a\r\n\r\n"),
        case("ctl-in-target", "request-line", "GET /c\x01 HTTP/1.1\r\nHost: a\r\n\r\n"),
        case("del-in-target", "request-line", "GET /c\x7f HTTP/1.1\r\nHost: a\r\n\r\n"),
        case("high-byte-in-target", "request-line", "GET /caf\xe9 HTTP/1.1\r\nHost: a\r\n\r\n"),
        case("missing-target", "request-line", "GET HTTP/1.1\r\nHost: a\r\n\r\n"),
        case("missing-version", "request-line", "GET /mv\r\nHost: a\r\n\r\n"),
        case("extra-token", "request-line", "GET /x HTTP/1.1 extra\r\nHost: a\r\n\r\n"),
        case("empty-request-line", "request-line", "\r\nHost: a\r\n\r\n"),
        case("target-no-slash", "request-line", "GET x HTTP/1.1\r\nHost: a\r\n\r\n"),
        case("target-query-only", "request-line", "GET /q?a=1&b=%20 HTTP/1.1\r\nHost: a\r\n\r\n"),
        case("target-fragment", "request-line", "GET /f#frag HTTP/1.1\r\nHost: a\r\n\r\n"),
        case("target-7k", "request-line", "GET /" + "a" * 7000 + " HTTP/1.1\r\nHost: a\r\n\r\n"),
        case("target-9k", "request-line", "GET /" + "a" * 9000 + " HTTP/1.1\r\nHost: a\r\n\r\n"),
        case("method-overlong-2k", "request-line", "G" * 2000 + " /o HTTP/1.1\r\nHost: a\r\n\r\n"),
    ]

    # :: header syntax
    hs = [
        ("obs-fold", "X-A: one\r\n two\r\n"),
        ("obs-fold-tab", "X-A: one\r\n\ttwo\r\n"),
        ("obs-fold-first-header", " X-A: 1\r\n"),
        ("space-before-colon", "X-A : 1\r\n"),
        ("tab-before-colon", "X-A\t: 1\r\n"),
        ("empty-name", ": v\r\n"),
        ("space-in-name", "X A: 1\r\n"),
        ("non-ascii-name", "X-\xe9: 1\r\n"),
        ("utf8-name", "X-\xc3\xa9: 1\r\n"),
        ("underscore-name", "X_A: 1\r\n"),
        ("dot-name", "X.A: 1\r\n"),
        ("slash-name", "X/A: 1\r\n"),
        ("no-colon", "X-A 1\r\n"),
        ("colon-in-value", "X-A: b:c\r\n"),
        ("no-space-after-colon", "X-A:1\r\n"),
        ("many-spaces-after-colon", "X-A:      1\r\n"),
        ("trailing-spaces", "X-A: 1   \r\n"),
        ("trailing-tab", "X-A: 1\t\r\n"),
        ("leading-tab", "X-A:\t1\r\n"),
        ("empty-value", "X-A:\r\n"),
        ("empty-value-space", "X-A: \r\n"),
        ("inner-tab", "X-A: a\tb\r\n"),
        ("quotes", "X-A: \"q\" 'r'\r\n"),
        ("utf8-value", "X-A: caf\xc3\xa9 \xe2\x9c\x93\r\n"),
        ("latin1-value", "X-A: caf\xe9\r\n"),
        ("high-bytes-value", "X-A: \x80\x81\xfe\xff\r\n"),
        ("invalid-utf8-value", "X-A: \xc3\x28 \xed\xa0\x80\r\n"),
        ("nul-in-value", "X-A: a\x00b\r\n"),
        ("ctl-01-in-value", "X-A: a\x01b\r\n"),
        ("ctl-1f-in-value", "X-A: a\x1fb\r\n"),
        ("del-in-value", "X-A: a\x7fb\r\n"),
        ("vt-in-value", "X-A: a\x0bb\r\n"),
        ("ff-in-value", "X-A: a\x0cb\r\n"),
        ("bare-cr-in-value", "X-A: a\rb\r\n"),
        ("bare-lf-header-line", "X-A: 1\nX-B: 2\r\n"),
        ("duplicate-header", "X-A: 1\r\nX-A: 2\r\n"),
        ("duplicate-header-case", "X-A: 1\r\nx-a: 2\r\n"),
        ("lowercase-known", "accept: text/plain\r\nuser-agent: ua\r\n"),
        ("cookie-twice", "Cookie: a=1\r\nCookie: b=2\r\n"),
        ("value-7k", "X-A: " + "v" * 7000 + "\r\n"),
        ("value-9k", "X-A: " + "v" * 9000 + "\r\n"),
        ("headers-30k", "".join(f"X-H{i}: {'v' * 1000}\r\n" for i in range(30))),
        ("headers-40k", "".join(f"X-H{i}: {'v' * 1000}\r\n" for i in range(40))),
        ("headers-90", "".join(f"X-H{i}: {i}\r\n" for i in range(90))),
        ("headers-150", "".join(f"X-H{i}: {i}\r\n" for i in range(150))),
        ("x-forwarded-for-client", "X-Forwarded-For: 1.2.3.4\r\n"),
        ("x-real-ip-client", "X-Real-IP: 1.2.3.4\r\n"),
        ("via-client", "Via: 1.0 client\r\n"),
    ]
    for name, headers in hs:
        out.append(case(f"header-{name}", "header-syntax", f"GET /h HTTP/1.1\r\nHost: a\r\n{headers}\r\n"))
    out += [
        case("host-missing", "header-syntax", "GET /h HTTP/1.1\r\n\r\n"),
        case("host-empty", "header-syntax", "GET /h HTTP/1.1\r\nHost:\r\n\r\n"),
        case("host-duplicate", "header-syntax", "GET /h HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
        case("host-duplicate-same", "header-syntax", "GET /h HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"),
        case("host-with-port", "header-syntax", "GET /h HTTP/1.1\r\nHost: a:8080\r\n\r\n"),
        case("host-space", "header-syntax", "GET /h HTTP/1.1\r\nHost: a b\r\n\r\n"),
        case("host-userinfo", "header-syntax", "GET /h HTTP/1.1\r\nHost: u@a\r\n\r\n"),
        case("host-bad-port", "header-syntax", "GET /h HTTP/1.1\r\nHost: a:x\r\n\r\n"),
        case("host-ipv6", "header-syntax", "GET /h HTTP/1.1\r\nHost: [::1]:80\r\n\r\n"),
        case("host-non-ascii", "header-syntax", "GET /h HTTP/1.1\r\nHost: caf\xe9\r\n\r\n"),
        case("host-trailing-dot", "header-syntax", "GET /h HTTP/1.1\r\nHost: a.\r\n\r\n"),
    ]

    # :: Content-Length
    cl = [
        ("cl-5", "Content-Length: 5\r\n", "hello"),
        ("cl-0", "Content-Length: 0\r\n", ""),
        ("cl-leading-zeros", "Content-Length: 005\r\n", "hello"),
        ("cl-plus", "Content-Length: +5\r\n", "hello"),
        ("cl-minus-zero", "Content-Length: -0\r\n", ""),
        ("cl-negative", "Content-Length: -5\r\n", "hello"),
        ("cl-hex", "Content-Length: 0x5\r\n", "hello"),
        ("cl-list-same", "Content-Length: 5, 5\r\n", "hello"),
        ("cl-list-differ", "Content-Length: 5, 6\r\n", "hello"),
        ("cl-dup-same", "Content-Length: 5\r\nContent-Length: 5\r\n", "hello"),
        ("cl-dup-differ", "Content-Length: 5\r\nContent-Length: 6\r\n", "hello"),
        ("cl-empty", "Content-Length:\r\n", "hello"),
        ("cl-space-inside", "Content-Length: 5 5\r\n", "hello"),
        ("cl-trailing-space", "Content-Length: 5  \r\n", "hello"),
        ("cl-tab", "Content-Length:\t5\r\n", "hello"),
        ("cl-letters", "Content-Length: five\r\n", "hello"),
        ("cl-decimal", "Content-Length: 5.0\r\n", "hello"),
        ("cl-overflow", "Content-Length: 99999999999999999999\r\n", "hello"),
        ("cl-int64-max-plus", "Content-Length: 9223372036854775808\r\n", "hello"),
        ("cl-space-before-colon", "Content-Length : 5\r\n", "hello"),
        ("cl-underscore", "Content_Length: 5\r\n", "hello"),
        ("cl-on-get", "Content-Length: 5\r\n", "hello"),
        ("cl-obs-fold", "Content-Length:\r\n 5\r\n", "hello"),
    ]
    for name, headers, body in cl:
        method = "GET" if name == "cl-on-get" else "POST"
        out.append(case(name, "content-length", f"{method} /cl HTTP/1.1\r\nHost: a\r\n{headers}\r\n{body}"))
    out.append(case("post-no-length", "content-length", "POST /cl HTTP/1.1\r\nHost: a\r\n\r\n"))
    out.append(case("post-no-length-http10", "content-length", "POST /cl HTTP/1.0\r\nHost: a\r\n\r\n"))

    # :: Transfer-Encoding and CL/TE smuggling
    chunked = "5\r\nhello\r\n0\r\n\r\n"
    te = [
        ("te-chunked", "Transfer-Encoding: chunked\r\n"),
        ("te-Chunked", "Transfer-Encoding: Chunked\r\n"),
        ("te-CHUNKED", "Transfer-Encoding: CHUNKED\r\n"),
        ("te-leading-space", "Transfer-Encoding:   chunked\r\n"),
        ("te-trailing-space", "Transfer-Encoding: chunked  \r\n"),
        ("te-tab", "Transfer-Encoding:\tchunked\r\n"),
        ("te-vt", "Transfer-Encoding: \x0bchunked\r\n"),
        ("te-ff", "Transfer-Encoding: \x0cchunked\r\n"),
        ("te-gzip-chunked", "Transfer-Encoding: gzip, chunked\r\n"),
        ("te-identity-chunked", "Transfer-Encoding: identity, chunked\r\n"),
        ("te-chunked-identity", "Transfer-Encoding: chunked, identity\r\n"),
        ("te-chunked-chunked", "Transfer-Encoding: chunked, chunked\r\n"),
        ("te-comma-chunked", "Transfer-Encoding: , chunked\r\n"),
        ("te-chunked-comma", "Transfer-Encoding: chunked,\r\n"),
        ("te-two-lines", "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"),
        ("te-two-lines-gzip", "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n"),
        ("te-identity", "Transfer-Encoding: identity\r\n"),
        ("te-gzip", "Transfer-Encoding: gzip\r\n"),
        ("te-x-chunked", "Transfer-Encoding: xchunked\r\n"),
        ("te-chunked-x", "Transfer-Encoding: chunkedx\r\n"),
        ("te-chunked-param", "Transfer-Encoding: chunked;q=1\r\n"),
        ("te-quoted", "Transfer-Encoding: \"chunked\"\r\n"),
        ("te-empty", "Transfer-Encoding:\r\n"),
        ("te-space-before-colon", "Transfer-Encoding : chunked\r\n"),
        ("te-underscore", "Transfer_Encoding: chunked\r\n"),
        ("te-obs-fold", "Transfer-Encoding:\r\n chunked\r\n"),
        ("te-non-ascii", "Transfer-Encoding: chunked\xe9\r\n"),
        ("cl-te", "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"),
        ("te-cl", "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"),
        ("cl0-te", "Content-Length: 0\r\nTransfer-Encoding: chunked\r\n"),
        ("te-cl-big", "Transfer-Encoding: chunked\r\nContent-Length: 100\r\n"),
        ("cl-te-gzip", "Content-Length: 5\r\nTransfer-Encoding: gzip, chunked\r\n"),
        ("te-xcl", "Transfer-Encoding: chunked\r\nX-Content-Length: 5\r\n"),
    ]
    for name, headers in te:
        out.append(case(name, "transfer-encoding", f"POST /te HTTP/1.1\r\nHost: a\r\n{headers}\r\n{chunked}"))
    out.append(case("te-http10", "transfer-encoding", f"POST /te HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n{chunked}"))
    out.append(case("te-on-get", "transfer-encoding", f"GET /te HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n{chunked}"))
    # CL.TE / TE.CL with a smuggled request behind: only what each proxy frames may reach the upstream
    smuggle = "GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n"
    out.append(case("smuggle-cl-te", "transfer-encoding",
                    f"POST /te HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nX{smuggle}", 2))
    out.append(case("smuggle-te-cl", "transfer-encoding",
                    f"POST /te HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n{smuggle}", 2))
    out.append(case("smuggle-te-te", "transfer-encoding",
                    f"POST /te HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n\r\n0\r\n\r\n{smuggle}", 2))

    # :: chunk syntax
    ch = [
        ("chunk-upper-hex", "A\r\n0123456789\r\n0\r\n\r\n"),
        ("chunk-leading-zeros", "0005\r\nhello\r\n0\r\n\r\n"),
        ("chunk-plus", "+5\r\nhello\r\n0\r\n\r\n"),
        ("chunk-minus", "-5\r\nhello\r\n0\r\n\r\n"),
        ("chunk-0x", "0x5\r\nhello\r\n0\r\n\r\n"),
        ("chunk-leading-space", " 5\r\nhello\r\n0\r\n\r\n"),
        ("chunk-trailing-space", "5 \r\nhello\r\n0\r\n\r\n"),
        ("chunk-trailing-tab", "5\t\r\nhello\r\n0\r\n\r\n"),
        ("chunk-overflow", "ffffffffffffffffff\r\nhello\r\n0\r\n\r\n"),
        ("chunk-int64-overflow", "8000000000000000\r\nhello\r\n0\r\n\r\n"),
        ("chunk-ext", "5;ext=1\r\nhello\r\n0\r\n\r\n"),
        ("chunk-ext-quoted", "5;ext=\"a b\"\r\nhello\r\n0\r\n\r\n"),
        ("chunk-ext-bare", "5;\r\nhello\r\n0\r\n\r\n"),
        ("chunk-ext-space", "5 ;ext\r\nhello\r\n0\r\n\r\n"),
        ("chunk-ext-lf-inside", "5;a\nb\r\nhello\r\n0\r\n\r\n"),
        ("chunk-missing-crlf-after-data", "5\r\nhello0\r\n\r\n"),
        ("chunk-lf-after-data", "5\r\nhello\n0\r\n\r\n"),
        ("chunk-lf-size-line", "5\nhello\r\n0\r\n\r\n"),
        ("chunk-data-longer", "3\r\nhello\r\n0\r\n\r\n"),
        ("chunk-empty-size", "\r\nhello\r\n0\r\n\r\n"),
        ("chunk-letters", "zz\r\nhello\r\n0\r\n\r\n"),
        ("chunk-two", "2\r\nhe\r\n3\r\nllo\r\n0\r\n\r\n"),
        ("chunk-last-000", "5\r\nhello\r\n000\r\n\r\n"),
        ("chunk-last-ext", "5\r\nhello\r\n0;e=1\r\n\r\n"),
        ("chunk-trailer", "5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n"),
        ("chunk-trailer-cl", "5\r\nhello\r\n0\r\nContent-Length: 50\r\n\r\n"),
        ("chunk-trailer-bad", "5\r\nhello\r\n0\r\nbad trailer\r\n\r\n"),
        ("chunk-zero-only", "0\r\n\r\n"),
        ("chunk-1k", "400\r\n" + "b" * 1024 + "\r\n0\r\n\r\n"),
    ]
    for name, body in ch:
        out.append(case(name, "chunked", f"POST /ch HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n{body}"))

    # :: Expect
    out += [
        case("expect-100-cl", "expect", "POST /e HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nhello"),
        case("expect-100-case", "expect", "POST /e HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 5\r\n\r\nhello"),
        case("expect-100-chunked", "expect", "POST /e HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
        case("expect-100-no-body", "expect", "GET /e HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n"),
        case("expect-100-http10", "expect", "POST /e HTTP/1.0\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nhello"),
        case("expect-unknown", "expect", "GET /e HTTP/1.1\r\nHost: a\r\nExpect: foo\r\n\r\n"),
        case("expect-empty", "expect", "GET /e HTTP/1.1\r\nHost: a\r\nExpect:\r\n\r\n"),
    ]

    # :: Connection and other hop-by-hop headers
    conn = [
        ("conn-names", "Connection: X-A\r\nX-A: 1\r\nX-B: 2\r\n"),
        ("conn-keepalive-names", "Connection: keep-alive, X-A\r\nX-A: 1\r\nX-B: 2\r\n"),
        ("conn-close-names", "Connection: close, X-A\r\nX-A: 1\r\nX-B: 2\r\n"),
        ("conn-names-two-lines", "Connection: X-A\r\nConnection: X-B\r\nX-A: 1\r\nX-B: 2\r\nX-C: 3\r\n"),
        ("conn-close", "Connection: close\r\nX-B: 2\r\n"),
        ("conn-keepalive", "Connection: keep-alive\r\nX-B: 2\r\n"),
        ("conn-upgrade-no-upgrade", "Connection: upgrade\r\nX-B: 2\r\n"),
        ("conn-names-xff", "Connection: X-Forwarded-For\r\nX-Forwarded-For: 1.2.3.4\r\n"),
        ("conn-names-te", "Connection: TE\r\nTE: trailers\r\n"),
        ("conn-names-cookie", "Connection: Cookie\r\nCookie: a=1\r\n"),
        ("conn-names-authorization", "Connection: Authorization\r\nAuthorization: Basic eDp5\r\n"),
        ("conn-empty", "Connection:\r\nX-B: 2\r\n"),
        ("conn-commas", "Connection: ,,X-A,,\r\nX-A: 1\r\nX-B: 2\r\n"),
        ("keep-alive-header", "Keep-Alive: timeout=5\r\nX-B: 2\r\n"),
        ("proxy-connection", "Proxy-Connection: keep-alive\r\nX-B: 2\r\n"),
        ("te-trailers", "TE: trailers\r\nX-B: 2\r\n"),
        ("upgrade-without-connection", "Upgrade: websocket\r\nX-B: 2\r\n"),
        ("proxy-authorization", "Proxy-Authorization: Basic eDp5\r\nX-B: 2\r\n"),
    ]
    for name, headers in conn:
        out.append(case(name, "connection", f"GET /conn HTTP/1.1\r\nHost: a\r\n{headers}\r\n"))

    # :: pipelining
    g = "GET /p1 HTTP/1.1\r\nHost: a\r\n\r\n"
    out += [
        case("pipeline-2-get", "pipelining", g + g.replace("/p1", "/p2"), 2),
        case("pipeline-3-get", "pipelining", g + g.replace("/p1", "/p2") + g.replace("/p1", "/p3"), 3),
        case("pipeline-post-cl-get", "pipelining", "POST /p1 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello" + g.replace("/p1", "/p2"), 2),
        case("pipeline-post-chunked-get", "pipelining",
             "POST /p1 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n" + g.replace("/p1", "/p2"), 2),
        case("pipeline-head-get", "pipelining", "HEAD /p1 HTTP/1.1\r\nHost: a\r\n\r\n" + g.replace("/p1", "/p2"), 2),
        case("pipeline-get-garbage", "pipelining", g + "GARBAGE\r\n\r\n", 2),
        case("pipeline-close-then-get", "pipelining", "GET /p1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n" + g.replace("/p1", "/p2"), 2),
        case("pipeline-cl-body-is-request", "pipelining",
             "POST /p1 HTTP/1.1\r\nHost: a\r\nContent-Length: 34\r\n\r\nGET /inner HTTP/1.1\r\nHost: a\r\n\r\n" + g.replace("/p1", "/p2"), 2),
        case("pipeline-get-with-body", "pipelining", "GET /p1 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello" + g.replace("/p1", "/p2"), 2),
        case("pipeline-http10-then-get", "pipelining", "GET /p1 HTTP/1.0\r\nHost: a\r\n\r\n" + g.replace("/p1", "/p2"), 2),
    ]
    ids = [c["id"] for c in out]
    assert len(ids) == len(set(ids)), "duplicate case ids"
    return out


# Where Gatehouse deliberately answers or forwards differently from nginx 1.22 (Kong's proxy). Reasons are short;
# docs/kong-compatibility.md has the long form. Filled in after comparing both observations.
DIFFERS = {}
PARSER_STRICTER = "stricter: Kestrel's HTTP/1.1 parser refuses what nginx tolerates (400, connection closed)"
for _id in ["version-HTTP_1.2", "version-HTTP_1.10", "version-HTTP_1.1-sp", "http09-simple", "missing-version",
            "double-space-after-method", "high-byte-in-target", "header-non-ascii-name", "header-utf8-name",
            "host-userinfo", "host-bad-port", "host-non-ascii", "absolute-form-other-host", "chunk-trailing-space",
            "chunk-trailing-tab", "chunk-ext-space", "chunk-lf-after-data", "chunk-lf-size-line", "chunk-trailer-bad",
            "post-no-length-http10"]:
    DIFFERS[_id] = PARSER_STRICTER
for _id in ["version-HTTP_0.9", "version-http_1.1"]:
    DIFFERS[_id] = "status only: Kestrel answers 505 (version not supported) where nginx answers 400"
for _id in ["te-vt", "te-ff", "te-chunked-identity", "te-identity", "te-gzip", "te-x-chunked", "te-chunked-x",
            "te-chunked-param", "te-quoted", "te-empty", "te-non-ascii", "cl-te-gzip"]:
    DIFFERS[_id] = "status only: a final coding other than chunked is refused by Kestrel's parser with 400 (nginx: 501); not forwarded either way"
for _id in ["asterisk-get", "authority-get", "target-no-slash"]:
    DIFFERS[_id] = "status only: the target is no path, so no route matches (404/405 from the router) where nginx answers 400; not forwarded either way"
for _id in ["bare-cr-in-target", "ctl-in-target", "del-in-target"]:
    DIFFERS[_id] = "Kestrel accepts the byte in the request-target and the upstream gets it percent-encoded (no raw control byte is forwarded); the request target is rebuilt by the URI normaliser (Routing/UriNormalizer)"
DIFFERS["method-get"] = "Kestrel accepts a lower-case method and it is forwarded upper-cased; nginx refuses it (400)"
for _id in ["header-trailing-tab", "header-leading-tab"]:
    DIFFERS[_id] = "RFC 9110 §5.5: tabs around a field value are OWS and not part of it; Kestrel trims them, nginx forwards them"
for _id in ["cl-tab", "te-tab"]:
    DIFFERS[_id] = "RFC 9110 §5.5: a tab before the value is OWS; Kestrel trims it and frames the body, nginx refuses (400/501)"
for _id in ["header-duplicate-header", "header-duplicate-header-case"]:
    DIFFERS[_id] = "repeated field lines are forwarded as one comma-joined line (RFC 9110 §5.3 makes them equivalent); nginx forwards the lines"
DIFFERS["header-cookie-twice"] = "two Cookie lines are forwarded as one joined with '; ' (RFC 6265 §5.4, as HTTP/2 requires); nginx forwards the lines"
DIFFERS["header-lowercase-known"] = "names of well-known headers are forwarded in their canonical case (header names are case-insensitive); nginx keeps the client's case"
DIFFERS["header-value-9k"] = "limits: Kestrel takes up to 32 KiB of headers in total with no per-line limit; nginx refuses a line over 8 KiB (large_client_header_buffers)"
DIFFERS["header-headers-40k"] = "limits: over 32 KiB of headers is 431 (Kestrel MaxRequestHeadersTotalSize) where nginx answers 400"
DIFFERS["header-headers-150"] = "limits: more than 100 header lines is 431 (Kestrel MaxRequestHeaderCount); nginx has no count limit"
DIFFERS["host-empty"] = "RFC 9112 §3.2 allows an empty Host; Kestrel accepts it and the route (no hosts) matches; nginx refuses (400)"
DIFFERS["te-xcl"] = "Kestrel renames Content-Length to X-Content-Length when Transfer-Encoding is present, so Transfer-Encoding with X-Content-Length is refused as CL+TE (400)"
for _id in ["expect-100-cl", "expect-100-case", "expect-100-chunked", "expect-100-no-body", "expect-100-http10",
            "expect-unknown", "expect-empty"]:
    DIFFERS[_id] = "the Expect header is forwarded (the upstream sees the client's expectation; Kestrel answers 100 Continue itself when the body is read); nginx consumes it"
for _id in ["conn-names", "conn-keepalive-names", "conn-close-names", "conn-names-two-lines", "conn-names-cookie",
            "conn-names-authorization", "conn-commas"]:
    DIFFERS[_id] = "Kong (not plain nginx) removes the headers named in Connection (RFC 9110 §7.6.1); Gatehouse does as Kong"
for _id in ["proxy-connection", "proxy-authorization"]:
    DIFFERS[_id] = "YARP drops Proxy-Connection and Proxy-Authorization (hop-by-hop, for this proxy); nginx forwards them"


# ---------------------------------------------------------------------------------------------------------------
# harness

class Recorder:
    """A raw upstream: records (request line, header lines, de-chunked body) and answers 200 'ok'."""

    def __init__(self, port):
        self.requests = []
        self.lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(64)
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            c, _ = self.sock.accept()
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()

    def serve(self, c):
        buf = b""
        c.settimeout(5)
        try:
            while True:
                while b"\r\n\r\n" not in buf:
                    d = c.recv(65536)
                    if not d:
                        return
                    buf += d
                head, buf = buf.split(b"\r\n\r\n", 1)
                lines = head.split(b"\r\n")
                lower = head.lower()
                body = b""
                if b"\r\ntransfer-encoding:" in lower:
                    while True:
                        while b"\r\n" not in buf:
                            buf += c.recv(65536)
                        size_line, rest = buf.split(b"\r\n", 1)
                        size = int(size_line.split(b";")[0], 16)
                        while len(rest) < size + 2:
                            rest += c.recv(65536)
                        if size == 0:
                            while b"\r\n\r\n" not in b"\r\n" + rest:
                                rest += c.recv(65536)
                            buf = (b"\r\n" + rest).split(b"\r\n\r\n", 1)[1]
                            break
                        body += rest[:size]
                        buf = rest[size + 2:]
                else:
                    m = re.search(rb"\r\ncontent-length: *(\d+)", lower)
                    n = int(m.group(1)) if m else 0
                    while len(buf) < n:
                        buf += c.recv(65536)
                    body, buf = buf[:n], buf[n:]
                with self.lock:
                    self.requests.append({
                        "line": lines[0].decode("latin-1"),
                        "headers": [l.decode("latin-1") for l in lines[1:]
                                    if l.split(b":", 1)[0].strip().lower().decode("latin-1") not in GATEWAY_SET],
                        "body": body.decode("latin-1"),
                    })
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok")
        except Exception:
            pass
        finally:
            c.close()

    def take(self):
        with self.lock:
            r, self.requests = self.requests, []
        return r


def read_responses(sock, count, head_request):
    """Statuses of up to `count` responses, by Content-Length / chunked / close; stops on 2 s of silence."""
    sock.settimeout(2)
    buf = b""
    statuses = []
    closed = False
    while len(statuses) < count:
        if b"\r\n\r\n" in buf:
            head, rest = buf.split(b"\r\n\r\n", 1)
            status = int(head[9:12])
            lower = head.lower()
            if status < 200 and status != 101:
                buf = rest  # 100 Continue: not counted
                continue
            m = re.search(rb"\r\ncontent-length: *(\d+)", lower)
            if status in (204, 304) or head_request and len(statuses) == 0:
                statuses.append(status)
                buf = rest
                continue
            if m:
                n = int(m.group(1))
                if len(rest) >= n:
                    statuses.append(status)
                    buf = rest[n:]
                    continue
            elif b"\r\ntransfer-encoding: chunked" in lower:
                end = rest.find(b"0\r\n\r\n")
                if end >= 0:
                    statuses.append(status)
                    buf = rest[end + 5:]
                    continue
            elif closed:
                statuses.append(status)
                buf = b""
                continue
        if closed:
            break
        try:
            d = sock.recv(65536)
        except (socket.timeout, ConnectionResetError):
            break
        if not d:
            closed = True
        buf += d
    return statuses


def observe(port, recorder, all_cases):
    results = {}
    for c in all_cases:
        recorder.take()
        s = socket.create_connection(("127.0.0.1", port))
        try:
            s.sendall(c["request"].encode("latin-1"))
        except OSError:
            pass
        try:
            statuses = read_responses(s, c["requests"], c["request"].startswith("HEAD"))
        except OSError:
            statuses = []
        s.close()
        time.sleep(0.15)
        results[c["id"]] = {"statuses": statuses, "upstream": recorder.take()}
    return results


NGINX_CONF = """
worker_processes 1;
daemon off;
error_log {dir}/error.log info;
pid {dir}/nginx.pid;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass http://127.0.0.1:{upstream};
        }}
    }}
}}
"""


def main():
    target = sys.argv[1] if len(sys.argv) > 1 else "table"
    all_cases = cases()
    if target == "nginx":
        recorder = Recorder(19102)
        d = tempfile.mkdtemp(prefix="nginx-ref-")
        with open(os.path.join(d, "nginx.conf"), "w") as f:
            f.write(NGINX_CONF.format(dir=d, port=18181, upstream=19102))
        proc = subprocess.Popen(["nginx", "-c", os.path.join(d, "nginx.conf"), "-p", d])
        time.sleep(1)
        try:
            results = observe(18181, recorder, all_cases)
        finally:
            proc.terminate()
            proc.wait()
        version = subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip()
        write(f"observed-nginx.json", {"version": version, "results": results})
    elif target == "gatehouse":
        recorder = Recorder(19001)
        write("observed-gatehouse.json", {"results": observe(18000, recorder, all_cases)})
    else:
        table(all_cases)


def write(name, data):
    with open(os.path.join(HERE, name), "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1, ensure_ascii=True)
        f.write("\n")


def table(all_cases):
    nginx = json.load(open(os.path.join(HERE, "observed-nginx.json")))
    gate = json.load(open(os.path.join(HERE, "observed-gatehouse.json")))["results"]
    rows, undocumented = [], []
    for c in all_cases:
        n, g = nginx["results"][c["id"]], gate[c["id"]]
        row = dict(c)
        row["expect"] = g
        row["nginx"] = n
        if n != g:
            if c["id"] not in DIFFERS:
                undocumented.append(c["id"])
            row["differs"] = DIFFERS.get(c["id"], "")
        rows.append(row)
    if undocumented:
        print("undocumented differences:", " ".join(undocumented))
        sys.exit(1)
    write("../http1-cases.json", {"nginx": nginx["version"], "cases": rows})
    print(f"{len(rows)} cases, {sum(1 for r in rows if 'differs' in r)} deliberate differences from nginx")


if __name__ == "__main__":
    main()
