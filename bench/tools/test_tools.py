"""Unit checks for the benchmark tools (no servers, no timing): the scenario table is consistent
with the Lua scripts, filters and README; generated configs have the promised shape; the report's
arithmetic and verdicts; the soak fit.   Run: python3 -m unittest discover -s bench/tools
"""
from __future__ import annotations

import http.server
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import unittest
import urllib.request

import latency
import otlp_receiver
import perf_pair
import pool_runs
import preflight
import prepare
import report
import scenarios
import soak

BENCH = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class ScenarioTableTests(unittest.TestCase):
    def test_method_scenarios_are_all_in_the_full_run(self):
        full = {s.id for s in scenarios.SCENARIOS if s.in_full_run}
        self.assertLessEqual({"direct", "nginx", "G1", "G2", "W1", "W2", "W4", "WB", "P2"}, full)

    def test_every_wrk_script_exists(self):
        for s in scenarios.SCENARIOS:
            self.assertTrue(os.path.isfile(os.path.join(BENCH, "lua", s.wrk_script)), s.id)

    def test_compare_to_points_at_a_known_scenario(self):
        for s in scenarios.SCENARIOS:
            if s.compare_to:
                self.assertIn(s.compare_to, scenarios.BY_ID, s.id)

    def test_readme_documents_every_scenario(self):
        with open(os.path.join(BENCH, "README.md")) as f:
            readme = f.read()
        for s in scenarios.SCENARIOS:
            self.assertRegex(readme, rf"\n\| {re.escape(s.id)} \|", s.id)

    def test_o1_pair_is_w2_plus_the_plugin_at_two_rates_in_the_full_run(self):
        w2 = scenarios.get("W2")
        for sid, rate in (("O1", 1.0), ("O1-low", 0.01)):
            s = scenarios.get(sid)
            self.assertTrue(s.in_full_run and s.otlp, sid)
            self.assertEqual(("W2", w2.chain, w2.expect_header, w2.wrk_script, rate),
                             (s.compare_to, s.chain, s.expect_header, s.wrk_script, s.otel_sampling))
        self.assertEqual(["O1", "O1-low"], [s.id for s in scenarios.SCENARIOS if s.otlp])
        self.assertNotEqual(scenarios.get("O1").otlp_path, scenarios.get("O1-low").otlp_path)
        self.assertTrue(scenarios.get("O1").otlp_path.endswith("/v1/traces"))

    def test_ten_filters_are_ten_distinct_modules_of_bench_headers(self):
        w10 = scenarios.get("W10")
        self.assertEqual(10, len(set(w10.chain)))
        self.assertEqual({"bench-headers.wasm"}, {scenarios.module_source(f) for f in w10.chain})


class PrepareTests(unittest.TestCase):
    def test_g2_routes_have_distinct_hosts_and_paths_and_no_path_prefixes_another(self):
        yml = prepare.kong_yml(scenarios.get("G2"), 9999)
        paths = re.findall(r'paths: \["(/r\d+)"\]', yml)
        hosts = re.findall(r'hosts: \["([^"]+)"\]', yml)
        self.assertEqual(scenarios.G2_ROUTES, len(set(paths)))
        self.assertEqual(scenarios.G2_ROUTES, len(set(hosts)))
        self.assertEqual({5}, {len(p) - 2 for p in paths})  # equal length => none is a prefix of another

    def test_g2_hot_routes_are_spread_over_the_table(self):
        hot = prepare.g2_hot()
        self.assertEqual(scenarios.G2_HOT_ROUTES, len(set(hot)))
        self.assertLess(min(hot), 100)
        self.assertGreater(max(hot), scenarios.G2_ROUTES - 100)

    def test_chain_is_nested_under_the_route_in_order(self):
        yml = prepare.kong_yml(scenarios.get("W4"), 1)
        self.assertIn("        filter_chains:\n", yml)
        self.assertEqual(4, yml.count('              - name: "bench-headers"'))

    def test_u1_balances_over_distinct_loopback_targets_with_active_checks(self):
        yml = prepare.kong_yml(scenarios.get("U1"), 9999)
        targets = re.findall(r'- target: "(127\.0\.0\.\d+:9999)"', yml)
        self.assertEqual(scenarios.UPSTREAM_ADDRESSES, len(set(targets)))
        self.assertIn(f'url: "http://{scenarios.U1_UPSTREAM}"', yml)
        self.assertEqual(2, yml.count(f"interval: {scenarios.U1_CHECK_INTERVAL}"))
        self.assertIn('http_path: "/"', yml)

    def test_idle_pair_differs_only_in_the_checks(self):
        on = prepare.kong_yml(scenarios.get("H100"), 9999)
        off = prepare.kong_yml(scenarios.get("H100-off"), 9999)
        self.assertEqual(scenarios.IDLE_TARGETS, len(set(re.findall(r'- target: "([^"]+)"', on))))
        self.assertIn("healthchecks:", on)
        self.assertNotIn("healthchecks:", off)
        self.assertEqual(re.findall(r'- target: "([^"]+)"', on), re.findall(r'- target: "([^"]+)"', off))

    def test_conf_turns_wasm_on_only_with_a_chain(self):
        with tempfile.TemporaryDirectory() as d:
            g1 = prepare.gatehouse_conf(scenarios.get("G1"), d, 1, 2)
            w1 = prepare.gatehouse_conf(scenarios.get("W1"), d, 1, 2)
        self.assertIn("wasm = off", g1)
        self.assertNotIn("wasm_filters_path", g1)
        self.assertIn("wasm = on", w1)
        self.assertIn(f"wasm_filters_path = {os.path.join(d, 'filters')}", w1)
        for key in ("database = off", "log_level = warn", "proxy_access_log = off", "proxy_listen = 127.0.0.1:1"):
            self.assertIn(key, w1)

    def test_o1_adds_a_global_opentelemetry_plugin_to_w2_and_turns_every_instrumentation_on(self):
        w2, o1 = prepare.kong_yml(scenarios.get("W2"), 9999), prepare.kong_yml(scenarios.get("O1-low"), 9999, 4318)
        self.assertIn('plugins:\n  - name: "opentelemetry"\n    config:\n'
                      '      traces_endpoint: "http://127.0.0.1:4318/O1-low/v1/traces"\n      sampling_rate: 0.01\n', o1)
        self.assertEqual(w2.replace('"bench-w2"', '"bench-o1-low"'), re.sub(r"plugins:\n(    .*\n|  - .*\n)+", "", o1))
        with tempfile.TemporaryDirectory() as d:
            self.assertIn("tracing_instrumentations = all\n", prepare.gatehouse_conf(scenarios.get("O1"), d, 1, 2))
            self.assertNotIn("tracing_instrumentations", prepare.gatehouse_conf(scenarios.get("W2"), d, 1, 2))
        self.assertNotIn("opentelemetry", w2)
        with self.assertRaises(SystemExit):  # no receiver: not available
            prepare.kong_yml(scenarios.get("O1"), 9999)

    def test_only_reasons_with_spans_dropped_are_reported(self):
        scrape = ('# TYPE gatehouse_opentelemetry_spans_dropped_total counter\n'
                  'gatehouse_opentelemetry_spans_dropped_total{reason="queue_full"} 0\n'
                  'gatehouse_opentelemetry_spans_dropped_total{reason="shutdown"} 0\n')
        self.assertEqual({}, preflight.dropped_spans(scrape))
        self.assertEqual({"queue_full": 12.0}, preflight.dropped_spans(scrape.replace('"queue_full"} 0', '"queue_full"} 12')))

    def test_p2_has_both_plugins_and_the_consumer_key(self):
        yml = prepare.kong_yml(scenarios.get("P2"), 1)
        for needle in ('name: "key-auth"', 'name: "rate-limiting"', 'policy: "local"', scenarios.API_KEY):
            self.assertIn(needle, yml)


def raw_row(sid, rep, requests, p99_us=2000, ticks=100, status=0, phase="run", hwm_kb=102400, others=0):
    return {"scenario": sid, "phase": phase, "rep": str(rep), "requests": str(requests), "duration_us": "1000000",
            "p50_us": "1000", "p99_us": str(p99_us), "max_us": "9000", "err_connect": "0", "err_read": "0",
            "err_write": "0", "err_status": str(status), "err_timeout": "0", "cpu_ticks": str(ticks),
            "clk_tck": "100", "hwm_kb": str(hwm_kb), "rss_kb": str(hwm_kb), "others_ticks": str(others)}


def ok(sid):
    return {"scenario": sid, "status": "ok", "reason": "", "note": "", "ready_s": "1"}


class ReportTests(unittest.TestCase):
    def test_median_ratio_and_per_filter_cpu(self):
        raw = [raw_row("nginx", r, n) for r, n in ((1, 10000), (2, 30000), (3, 20000))]
        raw += [raw_row("G1", r, 10000, ticks=100) for r in (1, 2, 3)]      # 100 µs CPU per request
        raw += [raw_row("W4", r, 10000, ticks=120) for r in (1, 2, 3)]      # 120 µs => 5 µs per filter
        rows = report.build_rows(raw, [ok("nginx"), ok("G1"), ok("W4")])
        self.assertEqual(20000, rows["nginx"].rps)
        self.assertAlmostEqual(0.5, report.ratio(rows, "G1", "nginx"))
        self.assertAlmostEqual(5.0, report.per_filter_us(rows, "W4"))
        verdicts = {g: v for g, _, v in report.goals(rows)}
        self.assertEqual("FAIL", verdicts["G1 ≥ 0.6 × nginx requests/s"])
        self.assertEqual("PASS", verdicts["≤ 5 µs CPU per filter per request (from W4)"])
        self.assertEqual("PASS", verdicts["G1 p99 ≤ nginx p99 + 1 ms"])
        self.assertEqual("n/a", verdicts["W2 ≥ 0.9 × G1 requests/s"])

    def test_warmup_rows_do_not_count(self):
        raw = [raw_row("G1", 0, 1, phase="warmup"), raw_row("G1", 1, 5000)]
        self.assertEqual(5000, report.build_rows(raw, [ok("G1")])["G1"].rps)

    def test_non_2xx_responses_make_a_scenario_invalid_and_leave_it_out_of_the_goals(self):
        raw = [raw_row("G1", 1, 10000), raw_row("P2", 1, 10000, status=3)]
        rows = report.build_rows(raw, [ok("G1"), ok("P2")])
        self.assertEqual("invalid", rows["P2"].status)
        self.assertIsNone(report.ratio(rows, "P2", "G1"))

    def test_not_available_rows_render_with_their_reason(self):
        na = {"scenario": "W2", "status": "na", "reason": "gatehouse exited with code 1", "note": "", "ready_s": ""}
        text = report.render(report.build_rows([], [na]), [], "t", standard=False)
        self.assertIn("not available: gatehouse exited with code 1", text)
        self.assertIn("Non-standard parameters", text)

    def test_a_proxy_that_did_not_get_its_core_raises_the_busy_warning(self):
        quiet = report.build_rows([raw_row("G1", 1, 1000, ticks=99)], [ok("G1")])   # 0.99 s of 1 s
        busy = report.build_rows([raw_row("G1", 1, 1000, ticks=40)], [ok("G1")])    # 0.40 s of 1 s
        self.assertAlmostEqual(40.0, busy["G1"].core_pct)
        self.assertNotIn("machine was busy", report.render(quiet, [], "t", standard=True))
        self.assertIn("machine was busy", report.render(busy, [], "t", standard=True))

    def test_busy_idle_neighbours_raise_a_warning(self):
        quiet = [raw_row("G1", 1, 1000, ticks=99, others=1)]
        noisy = [raw_row("G1", 1, 1000, ticks=99, others=10)]   # 10 % of the run
        self.assertNotIn("the idle servers of the other", report.render(report.build_rows(quiet, [ok("G1")]), quiet, "t", True))
        self.assertIn("the idle servers of the other", report.render(report.build_rows(noisy, [ok("G1")]), noisy, "t", True))

    def test_verdicts_of_quick_runs_are_flagged(self):
        raw = [raw_row("nginx", 1, 1000, ticks=99), raw_row("G1", 1, 1000, ticks=99)]
        rows = report.build_rows(raw, [ok("nginx"), ok("G1")])
        self.assertIn("PASS (untrustworthy: quick run)", report.render(rows, raw, "t", standard=False))
        self.assertNotIn("untrustworthy", report.render(rows, raw, "t", standard=True))

    def test_o1_goals_are_ratios_to_w2_of_the_same_run_and_o1_is_not_a_filter_cost(self):
        raw = [raw_row("G1", 1, 10000, ticks=100), raw_row("W2", 1, 10000, ticks=100),
               raw_row("O1", 1, 8500, ticks=100), raw_row("O1-low", 1, 9900, ticks=101)]
        rows = report.build_rows(raw, [ok("G1"), ok("W2"), ok("O1"), ok("O1-low")])
        goals = {g: (m, v) for g, m, v in report.goals(rows)}
        self.assertEqual(("0.85× (CPU/request 1.18× W2's)", "FAIL"),
                         goals["O1 ≥ 0.9 × W2 requests/s (opentelemetry at sampling 1: ≤ 10 % cost)"])
        self.assertEqual("PASS", goals["O1-low ≥ 0.98 × W2 requests/s (opentelemetry at sampling 0.01: ≤ 2 % cost)"][1])
        text = report.render(rows, raw, "t", standard=True)
        self.assertIn("| 0.85 × W2 |", text)
        self.assertIn("| W2 | 1 |", text)
        self.assertNotIn("| O1 | 1 |", text)  # not in the per-filter table

    def test_o1_goals_are_na_without_w2(self):
        rows = report.build_rows([raw_row("O1", 1, 8500)], [ok("O1")])
        self.assertEqual("n/a", {g: v for g, _, v in report.goals(rows)}[
            "O1 ≥ 0.9 × W2 requests/s (opentelemetry at sampling 1: ≤ 10 % cost)"])

    def test_rss_goal_uses_w10_peak(self):
        rows = report.build_rows([raw_row("W10", 1, 100, hwm_kb=160 * 1024)], [ok("W10")])
        verdicts = {g: v for g, _, v in report.goals(rows)}
        self.assertEqual("FAIL", verdicts["RSS with ten filters loaded ≤ 150 MB (W10 peak)"])


def pb_field(number: int, value: bytes) -> bytes:
    """A protobuf LEN field (test helper: enough for OTLP's nesting)."""
    def varint(n: int) -> bytes:
        out = b""
        while True:
            out += bytes([(n & 0x7F) | (0x80 if n > 0x7F else 0)])
            n >>= 7
            if not n:
                return out
    return varint(number << 3 | 2) + varint(len(value)) + value


def otlp_body(trace_id: bytes, names: list[str]) -> bytes:
    """ExportTraceServiceRequest with one resource, one scope, a span per name (plus a varint field, kind = 6)."""
    spans = b"".join(pb_field(2, pb_field(1, trace_id) + pb_field(2, b"\x01" * 8) + pb_field(5, n.encode()) + b"\x30\x02")
                     for n in names)
    return pb_field(1, pb_field(1, pb_field(1, b"attrs")) + pb_field(2, pb_field(1, pb_field(1, b"scope")) + spans))


class Receiver:
    """otlp_receiver.py's server in a thread, on a free port."""

    def __enter__(self):
        otlp_receiver.Handler.store = otlp_receiver.Store()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), otlp_receiver.Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.hostport = f"127.0.0.1:{self.server.server_address[1]}"
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def post(self, path: str, body: bytes, chunked: bool = False) -> int:
        import http.client
        c = http.client.HTTPConnection(*self.hostport.split(":"))
        try:
            c.request("POST", path, body=iter([body[:5], body[5:]]) if chunked else body,
                      headers={"Content-Type": "application/x-protobuf"}, encode_chunked=chunked)
            r = c.getresponse()
            r.read()
            return r.status
        finally:
            c.close()

    def get(self, path: str) -> dict:
        with urllib.request.urlopen(f"http://{self.hostport}{path}") as r:
            return json.loads(r.read())


class OtlpReceiverTests(unittest.TestCase):
    def test_posts_are_answered_200_counted_per_path_and_their_spans_decoded(self):
        a, b = bytes(range(16)), bytes(range(16, 32))
        with Receiver() as r:
            self.assertEqual(200, r.post("/O1/v1/traces", otlp_body(a, ["kong", "kong.router"])))
            self.assertEqual(200, r.post("/O1/v1/traces", otlp_body(b, ["kong"]), chunked=True))
            self.assertEqual(200, r.post("/O1-low/v1/traces", otlp_body(b, ["kong"])))
            self.assertEqual(404, r.post("/O1/v1/logs", b"x"))
            self.assertEqual(2, r.get("/stats?path=/O1/v1/traces")["posts"])
            self.assertEqual({a.hex(): ["kong", "kong.router"], b.hex(): ["kong"]},
                             r.get("/traces?path=/O1/v1/traces")["traces"])
            self.assertEqual({b.hex(): ["kong"]}, r.get("/traces?path=/O1/v1/traces&since=1")["traces"])


class FakeTracingGateway:
    """Stands in for Gatehouse in the O1 pre-flight: answers `hello` with one x-bench header and exports a trace per
    request to the receiver as `export(traceparent)` decides (None: nothing)."""

    def __init__(self, receiver: Receiver, path: str, export):
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):  # noqa: N802
                trace = export(self.headers.get("traceparent"))
                if trace is not None:
                    receiver.post(path, otlp_body(trace, ["kong", "kong.router", "kong.wasm.bench-headers"]))
                self.send_response(200)
                self.send_header("x-bench", "1")
                self.send_header("Content-Length", "6")
                self.end_headers()
                self.wfile.write(b"hello\n")

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.hostport = f"127.0.0.1:{outer.server.server_address[1]}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def parent_based(rate_one: bool):
    """A gateway deciding like the opentelemetry plugin: the traceparent's sampled flag, else the rate (1 or 0)."""
    def decide(header):
        if header:
            _, trace, _, flags = header.split("-")
            return bytes.fromhex(trace) if flags == "01" else None
        return os.urandom(16) if rate_one else None
    return decide


class OtlpPreflightTests(unittest.TestCase):
    def setUp(self):
        self.saved = preflight.OTLP_WAIT_S, preflight.OTLP_SETTLE_S
        preflight.OTLP_WAIT_S, preflight.OTLP_SETTLE_S = 1.0, 0.2

    def tearDown(self):
        preflight.OTLP_WAIT_S, preflight.OTLP_SETTLE_S = self.saved

    def check(self, sid: str, export) -> None:
        s = scenarios.get(sid)
        with Receiver() as r:
            gw = FakeTracingGateway(r, s.otlp_path, export)
            try:
                preflight.check_otlp(s, gw.hostport, r.hostport)
            finally:
                gw.close()

    def test_a_parent_based_gateway_passes_at_both_rates(self):
        self.check("O1", parent_based(rate_one=True))
        self.check("O1-low", parent_based(rate_one=False))

    def test_nothing_exported_fails(self):
        with self.assertRaisesRegex(preflight.CheckFailed, "spans do not reach the receiver"):
            self.check("O1-low", lambda header: None)

    def test_an_unsampled_traceparent_that_is_exported_fails(self):
        with self.assertRaisesRegex(preflight.CheckFailed, "not sampled \\(flags 00\\) was exported"):
            self.check("O1-low", lambda header: bytes.fromhex(header.split("-")[1]))

    def test_at_rate_one_requests_without_traceparent_must_be_exported(self):
        with self.assertRaisesRegex(preflight.CheckFailed, "spans do not reach the receiver"):
            self.check("O1", parent_based(rate_one=False))


class SoakFitTests(unittest.TestCase):
    def test_slope_of_a_line_is_exact(self):
        slope, se = soak.fit([0, 1, 2, 3], [10, 12, 14, 16])
        self.assertAlmostEqual(2.0, slope)
        self.assertAlmostEqual(0.0, se)

    def test_flat_noise_has_small_slope(self):
        slope, _ = soak.fit([0, 1, 2, 3, 4, 5], [100, 101, 100, 101, 100, 101])
        self.assertLess(abs(slope), 0.2)


class SoakReportTests(unittest.TestCase):
    """soak.py end to end on synthetic samples: flat, leaking, and a soak that measured 404s."""

    def run_soak(self, rss_mb_per_min: float, status_errors: int = 0) -> str:
        with tempfile.TemporaryDirectory() as d:
            rss, raw, out = (os.path.join(d, n) for n in ("rss.tsv", "raw.tsv", "out.md"))
            with open(rss, "w") as f:
                for i in range(61):  # 10 minutes, a sample every 10 s, +-1 MB sawtooth
                    t = i * 10
                    mb = 100 + rss_mb_per_min * t / 60 + (1 if i % 2 else -1)
                    f.write(f"{1000 + t} {int(mb * 1024)} {int(140 * 1024)}\n")
            with open(raw, "w") as f:
                f.write("\t".join(raw_row("W10", 1, 0).keys()) + "\n")
                row = raw_row("W10", 1, 60000, status=status_errors, phase="soak")
                row["duration_us"] = "60000000"
                f.write("\t".join(row.values()) + "\n")
            subprocess.run([sys.executable, os.path.join(BENCH, "tools", "soak.py"), "--scenario", "W10",
                            "--status", "ok", "--target", "1000", "--t0", "1000", "--rss", rss, "--raw", raw,
                            "--skip", "60", "--out", out], check=True, capture_output=True)
            with open(out) as f:
                return f.read()

    def test_flat_rss_passes_both_goals(self):
        text = self.run_soak(0.0)
        self.assertIn("| RSS with ten filters loaded ≤ 150 MB (peak VmHWM) | 140.0 MB | PASS |", text)
        self.assertRegex(text, r"RSS does not grow after the first 60 s \| [^|]+ \| PASS \|")

    def test_a_leak_of_one_mb_per_minute_fails(self):
        self.assertRegex(self.run_soak(1.0), r"RSS does not grow after the first 60 s \| [^|]+ \| FAIL \|")

    def test_non_2xx_responses_withdraw_the_verdicts(self):
        text = self.run_soak(0.0, status_errors=5)
        self.assertNotIn("| PASS |", text)
        self.assertIn("invalid (5 non-2xx", text)


class LatencyReportTests(unittest.TestCase):
    """latency.py: G1's p99 against nginx's at the same offered rate."""

    def run_latency(self, g1_rps: int, g1_p99_us: int, nginx_p99_us: int = 2000, target: int = 10000) -> str:
        with tempfile.TemporaryDirectory() as d:
            raw, status, out = (os.path.join(d, n) for n in ("raw.tsv", "status.tsv", "out.md"))
            rows = [raw_row("nginx", 1, 2 * target, phase="saturate"), raw_row("nginx", 1, target, phase="aim"),
                    raw_row("G1", 1, 1, p99_us=99_000_000, phase="aim")]
            for rep in (1, 2, 3):
                rows += [raw_row("nginx", rep, target, p99_us=nginx_p99_us, phase="rate"),
                         raw_row("G1", rep, g1_rps, p99_us=g1_p99_us, phase="rate")]
            with open(raw, "w") as f:
                f.write("\t".join(rows[0].keys()) + "\n")
                f.writelines("\t".join(r.values()) + "\n" for r in rows)
            with open(status, "w") as f:
                f.write("scenario\tstatus\tready_s\treason\tnote\n")
                f.writelines("\t".join(ok(sid).values()) + "\n" for sid in ("nginx", "G1"))
            subprocess.run([sys.executable, os.path.join(BENCH, "tools", "latency.py"), "--raw", raw, "--status", status,
                            "--target", str(target), "--out", out, "--standard"], check=True, capture_output=True)
            with open(out) as f:
                return f.read()

    def goal_line(self, text: str) -> str:
        return next(line for line in text.splitlines() if line.startswith("| G1 p99"))

    def test_within_one_millisecond_of_nginx_at_the_offered_rate_passes(self):
        line = self.goal_line(self.run_latency(10_000, 2_900))
        self.assertIn("G1 2.90 ms, nginx 2.00 ms: +0.90 ms", line)
        self.assertTrue(line.endswith("| PASS |"))

    def test_more_than_one_millisecond_above_nginx_fails(self):
        self.assertTrue(self.goal_line(self.run_latency(10_000, 3_100)).endswith("| FAIL |"))

    def test_aiming_runs_do_not_count(self):
        self.assertIn("| G1 | ok | 3 | 10,000 |", self.run_latency(10_000, 2_500))

    def test_a_proxy_that_cannot_keep_up_with_the_offered_rate_fails_whatever_its_p99(self):
        self.assertIn("FAIL (G1 delivered 80 % of the offered rate: saturated)", self.run_latency(8_000, 2_100))

    def test_a_proxy_measured_faster_than_the_offered_rate_gets_no_verdict(self):
        line = self.goal_line(self.run_latency(12_000, 2_100))
        self.assertIn("invalid (G1 ran at 120 % of the offered rate", line)

    def test_no_target_is_not_measured(self):
        self.assertEqual(latency.verdict(0, None, None), ("—", "n/a (not measured)"))


if __name__ == "__main__":
    unittest.main()


class PoolRunsTests(unittest.TestCase):
    HEAD = "- method: wrk -t1 -c64 --latency; 10 s warm-up then 3 × 10 s per scenario, interleaved\n"

    @staticmethod
    def row(sid, rep, rps, ticks, phase="run"):
        return f"| {sid} | {phase} | {rep} | {rps:,} | 1.00 | 2.00 | {ticks} | 30 | 100.0 | 0 |\n"

    def report(self, rounds):
        return self.HEAD + "".join(self.row(*r) for r in rounds)

    def test_medians_over_the_rounds_of_every_report_and_ratios_to_the_compared_row(self):
        a = self.report([("nginx", 1, 40_000, 1000), ("G1", 1, 10_000, 1000), ("G1", 2, 20_000, 1000),
                         ("G1", 0, 99_999, 1, "warmup")])
        b = self.report([("nginx", 1, 40_000, 1000), ("G1", 1, 30_000, 1000)])
        rows = {r["id"]: r for r in pool_runs.pool([a, b], {})}
        self.assertEqual(3, rows["G1"]["rounds"])  # the warm-up row is not a round
        self.assertEqual(20_000, rows["G1"]["rps"])
        self.assertAlmostEqual(0.5, rows["G1"]["rps_ratio"])
        # 1000 ticks = 10 s of CPU over 20,000 req/s × 10 s: 50 µs per request; nginx 25 µs
        self.assertAlmostEqual(50.0, rows["G1"]["cpu_us"])
        self.assertAlmostEqual(2.0, rows["G1"]["cpu_ratio"])

    def test_same_counts_the_alias_rounds_in_the_row_and_as_the_reference(self):
        a = self.report([("nginx", 1, 40_000, 1000), ("G1", 1, 10_000, 1000), ("G1-pg", 1, 30_000, 1000),
                         ("G1-pg", 2, 30_000, 1000), ("W1", 1, 27_000, 1000)])
        rows = {r["id"]: r for r in pool_runs.pool([a], {"G1-pg": "G1"})}
        self.assertEqual(3, rows["G1"]["rounds"])
        self.assertEqual(30_000, rows["G1"]["rps"])
        self.assertAlmostEqual(0.9, rows["W1"]["rps_ratio"])
        self.assertEqual(2, rows["G1-pg"]["rounds"])
        self.assertIn("| G1 | 3 | 30,000 |", pool_runs.markdown(list(rows.values())))

    def test_a_report_without_the_method_line_is_refused(self):
        with self.assertRaises(ValueError):
            pool_runs.rounds(self.row("G1", 1, 10_000, 1000))


class PerfPairTests(unittest.TestCase):
    def test_a_native_builds_frames_are_attributed_to_their_assembly_and_runtime(self):
        exe = "gatehouse"  # a native build's frames come from its executable
        for sym, expected in {
            "System_Net_Http_System_Net_Http_HttpConnection__SendAsync_d__56__MoveNext": "System.Net.Http",
            "Microsoft_AspNetCore_Server_Kestrel_Core_Microsoft_AspNetCore_Server_Kestrel_Core_Internal_Http_HttpProtocol__X":
                "Microsoft.AspNetCore.Server.Kestrel.Core",
            "gatehouse_Gatehouse_Proxy_ProxyRequestHandler__InvokeAsync_d__14__MoveNext": "gatehouse",
            "ProxyWasm_ProxyWasm_Runtime_WasmVm__Call": "ProxyWasm",
            "S_P_CoreLib_System_Threading_ExecutionContext__RunInternal": "System.Private.CoreLib",
            "Wasmtime_Dotnet_Wasmtime_Function__Invoke": "Wasmtime.Dotnet",
            "RhpInterfaceDispatch1": "runtime (gatehouse)",
            "WKS::gc_heap::mark_through_cards_for_segments": "runtime (gatehouse)",
        }.items():
            self.assertEqual(perf_pair.assembly_of(sym, exe), expected, sym)
        jit = "instance void [Yarp.ReverseProxy] Yarp.ReverseProxy.Forwarder.HttpForwarder+<SendAsync>d__8::MoveNext()"
        self.assertEqual(perf_pair.assembly_of(jit, "managed (JIT)"), "Yarp.ReverseProxy")
        returning = ("valuetype [System.Runtime]System.Threading.Tasks.ValueTask`1<valuetype Yarp.ReverseProxy.Forwarder."
                     "ForwarderError> [Yarp.ReverseProxy] Yarp.ReverseProxy.Forwarder.HttpForwarder::SendAsync(class "
                     "[System.Net.Http]System.Net.Http.HttpMessageInvoker)")
        self.assertEqual(perf_pair.assembly_of(returning, "managed (JIT)"), "Yarp.ReverseProxy")
        generic = ("instance void [System.Net.Sockets] System.Net.Sockets.SocketAsyncContext+OperationQueue`1[System.__Canon]"
                   "::ProcessQueuedOperation(!0)")
        self.assertEqual(perf_pair.assembly_of(generic, "managed (JIT)"), "System.Net.Sockets")
        self.assertEqual(perf_pair.assembly_of("__send", "libc.so.6"), "libc.so.6")
        self.assertEqual(perf_pair.assembly_of("x", "System.Net.Sockets.dll"), "System.Net.Sockets.dll")

    def test_our_own_frames_are_found_in_either_build(self):
        self.assertTrue(perf_pair.OWN.search("void [gatehouse] Gatehouse.Proxy.ProxyRequestHandler::InvokeAsync()"))
        self.assertTrue(perf_pair.OWN.search("gatehouse_Gatehouse_Proxy_ProxyRequestHandler__InvokeAsync"))
        self.assertTrue(perf_pair.OWN.search("ProxyWasm_ProxyWasm_Runtime_WasmVm__Call"))
        self.assertFalse(perf_pair.OWN.search("S_P_CoreLib_System_Threading_ExecutionContext__RunInternal"))
