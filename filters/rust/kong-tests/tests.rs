//! `tests`: a Kong-compatible test filter (raw Proxy-Wasm ABI 0.2.1, no SDK) offering the
//! request-header-driven behaviours Kong's wasm integration tests expect from their `tests`
//! fixture filter. Our own implementation; the contract is in filters/rust/README.md.

#[path = "../common/dispatch.rs"]
mod dispatch;
#[path = "../common/hostcalls.rs"]
mod hostcalls;

use dispatch::{Http, Root, CONTINUE, PAUSE};
use hostcalls as host;
use std::rc::Rc;

const PHASE: &str = "X-PW-Phase";
const TEST: &str = "X-PW-Test";
const INPUT: &str = "X-PW-Input";
const DISPATCH_ECHO: &str = "X-PW-Dispatch-Echo";
const ADD_HEADER: &str = "X-PW-Add-Header";
const ADD_RESP_HEADER: &str = "X-PW-Add-Resp-Header";

/// `k=v` tokens separated by whitespace; tokens without `=` are ignored; the last duplicate wins.
fn kv(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (k, v) in text.split_whitespace().filter_map(|t| t.split_once('=')) {
        out.retain(|(key, _)| key != k);
        out.push((k.to_string(), v.to_string()));
    }
    out
}

fn lookup<'a>(map: &'a [(String, String)], key: &str) -> Option<&'a str> {
    map.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

struct Config {
    raw: String,
    map: Vec<(String, String)>,
}

struct TestsRoot {
    config: Rc<Config>,
}

impl Root for TestsRoot {
    fn on_vm_start(&mut self, size: usize) -> bool {
        host::log(host::LOG_INFO, &format!("[proxy-wasm root] on_vm_start (conf_size: {})", size));
        true
    }

    fn on_configure(&mut self, size: usize) -> bool {
        host::log(host::LOG_INFO, &format!("[proxy-wasm root] on_configure (conf_size: {})", size));
        let raw = String::from_utf8_lossy(&host::buffer(host::PLUGIN_CONFIGURATION, 0, size).unwrap_or_default()).into_owned();
        let map = kv(&raw);
        if let Some(every) = lookup(&map, "tick_every") {
            let ms: u32 = every.parse().unwrap_or_else(|_| panic!("bad tick_every: {}", every));
            host::log(host::LOG_INFO, &format!("starting on_tick every {}ms", ms));
            host::set_tick_period(ms);
        }
        self.config = Rc::new(Config { raw, map });
        true
    }

    fn on_tick(&mut self) {
        host::log(host::LOG_INFO, "[proxy-wasm root] on_tick");
    }

    fn create_http(&mut self, context_id: u32) -> Box<dyn Http> {
        host::log(host::LOG_INFO, &format!("[proxy-wasm root] create_http_context (id: #{})", context_id));
        Box::new(TestsHttp { config: self.config.clone() })
    }
}

#[derive(Debug, PartialEq, Clone, Copy)]
enum Phase {
    RequestHeaders,
    RequestBody,
    ResponseHeaders,
    ResponseBody,
    Log,
}

fn parse_phase(s: &str) -> Phase {
    match s {
        "request_headers" => Phase::RequestHeaders,
        "request_body" => Phase::RequestBody,
        "response_headers" => Phase::ResponseHeaders,
        "response_body" => Phase::ResponseBody,
        "log" => Phase::Log,
        other => panic!("unknown phase: {:?}", other),
    }
}

fn warn_status(what: &str, status: u32) {
    if status != host::OK {
        host::log(host::LOG_WARN, &format!("[proxy-wasm] {} failed with status {}", what, status));
    }
}

/// `Name=Value` from a control header, applied to the given map; the control header is removed.
fn add_header_from(control: &str, map: u32) {
    if let Some(spec) = host::header(host::REQUEST_HEADERS, control) {
        let (name, value) = spec.split_once('=').unwrap_or_else(|| panic!("{} must be Name=Value", control));
        warn_status(&format!("adding header {}", name), host::add_header(map, name, value));
        host::remove_header(host::REQUEST_HEADERS, control);
    }
}

fn property_path(name: &str) -> Vec<&str> {
    std::iter::once("kong").chain(name.split('.')).collect()
}

/// `1500ms`, `2s`, `1m`, or a bare number of seconds (0 ⇒ host default).
fn parse_timeout_ms(text: &str) -> Option<u32> {
    let (digits, scale) = if let Some(d) = text.strip_suffix("ms") {
        (d, 1)
    } else if let Some(d) = text.strip_suffix('s') {
        (d, 1000)
    } else if let Some(d) = text.strip_suffix('m') {
        (d, 60_000)
    } else {
        (text, 1000)
    };
    digits.parse::<u32>().ok().map(|n| n.saturating_mul(scale))
}

struct TestsHttp {
    config: Rc<Config>,
}

impl TestsHttp {
    fn run(&mut self, current: Phase) -> u32 {
        let input = host::header(host::REQUEST_HEADERS, INPUT);
        let test = host::header(host::REQUEST_HEADERS, TEST);
        let on = host::header(host::REQUEST_HEADERS, PHASE).map_or(Phase::RequestHeaders, |p| parse_phase(&p));
        if current != on {
            return CONTINUE;
        }
        host::log(host::LOG_INFO, &format!("[proxy-wasm] testing in \"{:?}\"", on));
        for name in [INPUT, TEST, PHASE] {
            host::remove_header(host::REQUEST_HEADERS, name);
        }
        add_header_from(ADD_HEADER, host::REQUEST_HEADERS);
        add_header_from(ADD_RESP_HEADER, host::RESPONSE_HEADERS);

        let input = input.unwrap_or_default();
        match test.as_deref() {
            Some("trap") => panic!("trap msg"),
            Some("local_response") => {
                host::send_local_response(200, "tests_local_response", input.as_bytes(), &[]);
            }
            Some("dump_config") => {
                host::send_local_response(200, "tests_dump_config", self.config.raw.as_bytes(), &[]);
            }
            Some("get_kong_property") => match host::get_property(&property_path(&input)) {
                Ok(value) => {
                    host::log(host::LOG_INFO, &format!("[proxy-wasm] kong.{}: {:?}", input, String::from_utf8_lossy(&value)));
                    host::send_local_response(200, "tests_get_kong_property", &value, &[]);
                }
                Err(status) => {
                    host::log(host::LOG_INFO, &format!("[proxy-wasm] kong.{} not found (status {})", input, status));
                    host::send_local_response(404, "tests_get_kong_property", b"", &[]);
                }
            },
            Some("set_kong_property") => {
                let (name, value) = match input.split_once('=') {
                    Some((k, v)) => (k, Some(v)),
                    None => (input.as_str(), None),
                };
                warn_status(&format!("setting kong.{}", name), host::set_property(&property_path(name), value));
            }
            Some("echo_http_dispatch") => return self.dispatch(&input),
            Some("update_metrics") => update_metrics(&input),
            _ => {}
        }
        CONTINUE
    }

    fn dispatch(&mut self, input: &str) -> u32 {
        let args = kv(input);
        let authority = lookup(&args, "host").unwrap_or("127.0.0.1:15555");
        let mut headers: Vec<(&str, &str)> = vec![
            (":method", lookup(&args, "method").unwrap_or("GET")),
            (":path", lookup(&args, "path").unwrap_or("/")),
            (":authority", authority),
        ];
        if let Some(extra) = lookup(&args, "headers") {
            headers.extend(extra.split('|').filter_map(|h| h.split_once(':')));
        }
        let timeout = lookup(&args, "timeout").and_then(parse_timeout_ms).unwrap_or(0);
        let body = lookup(&args, "body").unwrap_or("");
        match dispatch::dispatch_http_call(authority, &headers, body.as_bytes(), timeout) {
            Ok(token) => host::log(host::LOG_INFO, &format!("[proxy-wasm] dispatched http call (token_id: {})", token)),
            Err(status) => panic!("dispatch error: status {}", status),
        }
        PAUSE
    }
}

/// `counter.<name>=<delta>`, `gauge.<name>=<value>`, `histogram.<name>=<value>` tokens.
fn update_metrics(input: &str) {
    for (key, value) in kv(input) {
        let (kind, name) = match key.split_once('.') {
            Some(("counter", n)) => (host::METRIC_COUNTER, n),
            Some(("gauge", n)) => (host::METRIC_GAUGE, n),
            Some(("histogram", n)) => (host::METRIC_HISTOGRAM, n),
            _ => panic!("bad metric spec: {}", key),
        };
        let amount: i64 = value.parse().unwrap_or_else(|_| panic!("bad metric value: {}", value));
        let id = host::define_metric(kind, name).unwrap_or_else(|s| panic!("define_metric {} failed: status {}", name, s));
        let status = if kind == host::METRIC_COUNTER { host::increment_metric(id, amount) } else { host::record_metric(id, amount as u64) };
        warn_status(&format!("updating metric {}", name), status);
    }
}

impl Http for TestsHttp {
    fn on_request_headers(&mut self, headers: usize, eos: bool) -> u32 {
        host::log(host::LOG_INFO, &format!("[proxy-wasm http] on_request_headers ({} headers, eof: {})", headers, eos));
        self.run(Phase::RequestHeaders)
    }

    fn on_request_body(&mut self, size: usize, eos: bool) -> u32 {
        host::log(host::LOG_INFO, &format!("[proxy-wasm http] on_request_body ({} bytes, eof: {})", size, eos));
        self.run(Phase::RequestBody)
    }

    fn on_response_headers(&mut self, headers: usize, eos: bool) -> u32 {
        host::log(host::LOG_INFO, &format!("[proxy-wasm http] on_response_headers ({} headers, eof: {})", headers, eos));
        if let Some(spec) = lookup(&self.config.map, "add_resp_header") {
            if let Some((name, value)) = spec.split_once('=') {
                warn_status(&format!("adding header {}", name), host::add_header(host::RESPONSE_HEADERS, name, value));
            }
        }
        self.run(Phase::ResponseHeaders)
    }

    fn on_response_body(&mut self, size: usize, eos: bool) -> u32 {
        host::log(host::LOG_INFO, &format!("[proxy-wasm http] on_response_body ({} bytes, eof: {})", size, eos));
        self.run(Phase::ResponseBody)
    }

    fn on_http_call_response(&mut self, token: u32, headers: usize, body_size: usize) {
        host::log(host::LOG_INFO, &format!(
            "[proxy-wasm http] on_http_call_response (token_id: {}, headers: {}, body_bytes: {})", token, headers, body_size));
        if let Ok(bytes) = host::buffer(host::HTTP_CALL_RESPONSE_BODY, 0, body_size) {
            let body = String::from_utf8_lossy(&bytes).into_owned();
            host::log(host::LOG_INFO, &format!("[proxy-wasm] http_call_response body: {:?}", body));
            let echo = host::header(host::REQUEST_HEADERS, DISPATCH_ECHO);
            if matches!(echo.as_deref(), Some("on" | "true" | "T" | "1")) {
                host::send_local_response(200, "tests_dispatch_echo", body.trim().as_bytes(), &[]);
            }
        }
        host::continue_request();
    }

    fn on_log(&mut self) {
        host::log(host::LOG_INFO, "[proxy-wasm http] on_log");
        self.run(Phase::Log);
    }
}

fn new_root(_context_id: u32) -> Box<dyn Root> {
    Box::new(TestsRoot { config: Rc::new(Config { raw: String::new(), map: Vec::new() }) })
}
