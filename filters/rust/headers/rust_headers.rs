//! `rust_headers`: a configurable header-manipulation filter written against the raw Proxy-Wasm
//! ABI 0.2.1 (no SDK). Configuration and behaviour are specified in filters/rust/README.md.

#[path = "../common/dispatch.rs"]
mod dispatch;
#[path = "../common/hostcalls.rs"]
mod hostcalls;
#[path = "../common/json.rs"]
mod json;

use dispatch::{Http, Root, CONTINUE, PAUSE};
use hostcalls as host;
use json::Json;
use std::rc::Rc;

const NAME: &str = "rust_headers";

#[derive(Default)]
struct HeaderOps {
    remove: Vec<String>,
    rename: Vec<(String, String)>,
    set: Vec<(String, String)>,
    add: Vec<(String, String)>,
}

struct LocalResponse {
    path: String,
    status: u32,
    body: String,
    headers: Vec<(String, String)>,
}

#[derive(Default)]
struct BodyOps {
    prepend: String,
    append: String,
}

impl BodyOps {
    fn active(&self) -> bool {
        !self.prepend.is_empty() || !self.append.is_empty()
    }
}

#[derive(Default)]
struct Config {
    request: HeaderOps,
    response: HeaderOps,
    request_body: BodyOps,
    response_body: BodyOps,
    local_response: Option<LocalResponse>,
    echo_path_header: Option<String>,
}

fn string_map(v: &Json, what: &str) -> Result<Vec<(String, String)>, String> {
    match v {
        Json::Obj(members) => members
            .iter()
            .map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())).ok_or_else(|| format!("{}.{} must be a string", what, k)))
            .collect(),
        other => Err(format!("{} must be an object, got {}", what, other.kind())),
    }
}

fn header_ops(v: &Json, what: &str) -> Result<HeaderOps, String> {
    let mut ops = HeaderOps::default();
    let members = match v {
        Json::Obj(m) => m,
        other => return Err(format!("{} must be an object, got {}", what, other.kind())),
    };
    for (key, value) in members {
        let path = format!("{}.{}", what, key);
        match key.as_str() {
            "add" => ops.add = string_map(value, &path)?,
            "set" => ops.set = string_map(value, &path)?,
            "rename" => ops.rename = string_map(value, &path)?,
            "remove" => match value {
                Json::Arr(items) => {
                    for item in items {
                        ops.remove.push(item.as_str().ok_or_else(|| format!("{} items must be strings", path))?.to_string());
                    }
                }
                other => return Err(format!("{} must be an array, got {}", path, other.kind())),
            },
            _ => return Err(format!("unknown key {}", path)),
        }
    }
    Ok(ops)
}

fn local_response(v: &Json) -> Result<LocalResponse, String> {
    let path = v.get("path").and_then(Json::as_str).ok_or("local_response.path must be a string")?.to_string();
    let status = match v.get("status") {
        None => 200,
        Some(Json::Num(n)) if *n >= 100.0 && *n <= 999.0 && n.fract() == 0.0 => *n as u32,
        Some(_) => return Err("local_response.status must be an integer in 100..999".into()),
    };
    let body = match v.get("body") {
        None => String::new(),
        Some(b) => b.as_str().ok_or("local_response.body must be a string")?.to_string(),
    };
    let headers = match v.get("headers") {
        None => Vec::new(),
        Some(h) => string_map(h, "local_response.headers")?,
    };
    Ok(LocalResponse { path, status, body, headers })
}

fn body_ops(v: &Json, what: &str) -> Result<BodyOps, String> {
    let members = match v {
        Json::Obj(m) => m,
        other => return Err(format!("{} must be an object, got {}", what, other.kind())),
    };
    let mut ops = BodyOps::default();
    for (key, value) in members {
        let text = value.as_str().ok_or_else(|| format!("{}.{} must be a string", what, key))?.to_string();
        match key.as_str() {
            "prepend" => ops.prepend = text,
            "append" => ops.append = text,
            _ => return Err(format!("unknown key {}.{}", what, key)),
        }
    }
    Ok(ops)
}

fn parse_config(bytes: &[u8]) -> Result<Config, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "configuration is not UTF-8".to_string())?;
    if text.trim().is_empty() {
        return Ok(Config::default());
    }
    let doc = json::parse(text)?;
    let members = match &doc {
        Json::Obj(m) => m,
        other => return Err(format!("configuration must be a JSON object, got {}", other.kind())),
    };
    let mut config = Config::default();
    for (key, value) in members {
        match key.as_str() {
            "request" => config.request = header_ops(value, "request")?,
            "response" => config.response = header_ops(value, "response")?,
            "request_body" => config.request_body = body_ops(value, "request_body")?,
            "response_body" => config.response_body = body_ops(value, "response_body")?,
            "local_response" => config.local_response = Some(local_response(value)?),
            "echo_path_header" => {
                config.echo_path_header = Some(value.as_str().ok_or("echo_path_header must be a string")?.to_string())
            }
            _ => return Err(format!("unknown key {}", key)),
        }
    }
    Ok(config)
}

/// Applies remove → rename → set → add to one header map.
fn apply(map: u32, ops: &HeaderOps) {
    for name in &ops.remove {
        host::remove_header(map, name);
    }
    for (from, to) in &ops.rename {
        if let Some(value) = host::header(map, from) {
            host::remove_header(map, from);
            host::replace_header(map, to, &value);
        }
    }
    for (name, value) in &ops.set {
        host::replace_header(map, name, value);
    }
    for (name, value) in &ops.add {
        host::add_header(map, name, value);
    }
}

/// Buffers the whole body (PAUSE until end of stream), then rewrites it once as prepend + body + append.
fn rewrite_body(kind: u32, ops: &BodyOps, size: usize, eos: bool) -> u32 {
    if !ops.active() {
        return CONTINUE;
    }
    if !eos {
        return PAUSE;
    }
    let body = host::buffer(kind, 0, size).unwrap_or_default();
    let mut out = Vec::with_capacity(ops.prepend.len() + body.len() + ops.append.len());
    out.extend_from_slice(ops.prepend.as_bytes());
    out.extend_from_slice(&body);
    out.extend_from_slice(ops.append.as_bytes());
    let status = host::set_buffer(kind, 0, size, &out);
    if status != host::OK {
        host::log(host::LOG_WARN, &format!("{}: rewriting body buffer {} failed with status {}", NAME, kind, status));
    }
    CONTINUE
}

struct HeadersRoot {
    config: Rc<Config>,
}

impl Root for HeadersRoot {
    fn on_configure(&mut self, size: usize) -> bool {
        let bytes = host::buffer(host::PLUGIN_CONFIGURATION, 0, size).unwrap_or_default();
        match parse_config(&bytes) {
            Ok(config) => {
                self.config = Rc::new(config);
                host::log(host::LOG_INFO, &format!("{}: configured ({} bytes)", NAME, bytes.len()));
                true
            }
            Err(e) => {
                host::log(host::LOG_ERROR, &format!("{}: invalid configuration: {}", NAME, e));
                false
            }
        }
    }

    fn create_http(&mut self, _context_id: u32) -> Box<dyn Http> {
        Box::new(HeadersHttp { config: self.config.clone(), path: None })
    }
}

struct HeadersHttp {
    config: Rc<Config>,
    path: Option<String>,
}

impl Http for HeadersHttp {
    fn on_request_headers(&mut self, _headers: usize, _eos: bool) -> u32 {
        let path = host::header(host::REQUEST_HEADERS, ":path").unwrap_or_default();
        let bare = path.split('?').next().unwrap_or("");
        if let Some(lr) = self.config.local_response.as_ref().filter(|lr| lr.path == bare) {
            host::log(host::LOG_INFO, &format!("{}: local response {} for {}", NAME, lr.status, bare));
            let headers: Vec<(&str, &str)> = lr.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            host::send_local_response(lr.status, "rust_headers_local", lr.body.as_bytes(), &headers);
            return PAUSE;
        }
        apply(host::REQUEST_HEADERS, &self.config.request);
        if self.config.request_body.active() {
            host::remove_header(host::REQUEST_HEADERS, "content-length");
        }
        self.path = Some(path);
        CONTINUE
    }

    fn on_request_body(&mut self, size: usize, eos: bool) -> u32 {
        rewrite_body(host::REQUEST_BODY, &self.config.request_body, size, eos)
    }

    fn on_response_body(&mut self, size: usize, eos: bool) -> u32 {
        rewrite_body(host::RESPONSE_BODY, &self.config.response_body, size, eos)
    }

    fn on_response_headers(&mut self, _headers: usize, _eos: bool) -> u32 {
        apply(host::RESPONSE_HEADERS, &self.config.response);
        if self.config.response_body.active() {
            host::remove_header(host::RESPONSE_HEADERS, "content-length");
        }
        if let (Some(name), Some(path)) = (&self.config.echo_path_header, &self.path) {
            host::replace_header(host::RESPONSE_HEADERS, name, path);
        }
        CONTINUE
    }
}

fn new_root(_context_id: u32) -> Box<dyn Root> {
    Box::new(HeadersRoot { config: Rc::new(Config::default()) })
}
