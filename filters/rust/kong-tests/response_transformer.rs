//! `response_transformer`: a Kong-compatible response-header transformer (raw Proxy-Wasm ABI
//! 0.2.1, no SDK) with the configuration Kong's wasm integration tests give their
//! `response_transformer` fixture. Our own implementation; the contract is in filters/rust/README.md.

#[path = "../common/dispatch.rs"]
mod dispatch;
#[path = "../common/hostcalls.rs"]
mod hostcalls;
#[path = "../common/json.rs"]
mod json;

use dispatch::{Http, Root, CONTINUE};
use hostcalls as host;
use json::Json;
use std::rc::Rc;

#[derive(Default)]
struct Config {
    remove: Vec<String>,
    rename: Vec<(String, String)>,
    replace: Vec<(String, String)>,
    add: Vec<(String, String)>,
    append: Vec<(String, String)>,
}

/// `{"headers": [...]}` → the list of strings.
fn header_list(section: &str, v: &Json) -> Result<Vec<String>, String> {
    let headers = match v {
        Json::Obj(_) => v.get("headers").ok_or_else(|| format!("{}: missing field `headers`", section))?,
        other => return Err(format!("{}: expected an object, got {}", section, other.kind())),
    };
    match headers {
        Json::Arr(items) => items
            .iter()
            .map(|i| i.as_str().map(str::to_string).ok_or_else(|| format!("{}.headers: expected strings, got {}", section, i.kind())))
            .collect(),
        other => Err(format!("{}.headers: expected an array, got {}", section, other.kind())),
    }
}

/// `name:value`, split at the first colon; both parts must be non-empty.
fn pair(section: &str, s: &str) -> Result<(String, String), String> {
    match s.split_once(':') {
        Some((n, v)) if !n.is_empty() && !v.is_empty() => Ok((n.to_string(), v.to_string())),
        _ => Err(format!("{}: Invalid <header>:<name> => {}", section, s)),
    }
}

fn parse_config(bytes: &[u8]) -> Result<Config, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "configuration is not UTF-8".to_string())?;
    let doc = json::parse(text)?;
    if !matches!(doc, Json::Obj(_)) {
        return Err(format!("expected an object, got {}", doc.kind()));
    }
    let mut config = Config::default();
    let pairs = |section: &str| -> Result<Vec<(String, String)>, String> {
        match doc.get(section) {
            None => Ok(Vec::new()),
            Some(v) => header_list(section, v)?.iter().map(|s| pair(section, s)).collect(),
        }
    };
    config.rename = pairs("rename")?;
    config.replace = pairs("replace")?;
    config.add = pairs("add")?;
    config.append = pairs("append")?;
    if let Some(v) = doc.get("remove") {
        config.remove = header_list("remove", v)?;
    }
    Ok(config)
}

struct TransformerRoot {
    config: Rc<Config>,
}

impl Root for TransformerRoot {
    fn on_configure(&mut self, size: usize) -> bool {
        let bytes = host::buffer(host::PLUGIN_CONFIGURATION, 0, size).unwrap_or_default();
        match parse_config(&bytes) {
            Ok(config) => {
                self.config = Rc::new(config);
                true
            }
            Err(e) => {
                host::log(host::LOG_ERROR, &format!("failed parsing filter config: {}", e));
                false
            }
        }
    }

    fn create_http(&mut self, _context_id: u32) -> Box<dyn Http> {
        Box::new(TransformerHttp { config: self.config.clone() })
    }
}

struct TransformerHttp {
    config: Rc<Config>,
}

const RESP: u32 = host::RESPONSE_HEADERS;

impl Http for TransformerHttp {
    fn on_response_headers(&mut self, _headers: usize, _eos: bool) -> u32 {
        let c = &self.config;
        for name in &c.remove {
            host::log(host::LOG_INFO, &format!("[response-transformer] removing header: {}", name));
            host::remove_header(RESP, name);
        }
        for (from, to) in &c.rename {
            host::log(host::LOG_INFO, &format!("[response-transformer] renaming header {} => {}", from, to));
            let value = host::header(RESP, from);
            host::remove_header(RESP, from);
            match value {
                Some(v) => host::replace_header(RESP, to, &v),
                None => host::remove_header(RESP, to),
            };
        }
        for (name, value) in &c.replace {
            if host::header(RESP, name).is_some() {
                host::log(host::LOG_INFO, &format!("[response-transformer] updating header {} value to {}", name, value));
                host::replace_header(RESP, name, value);
            }
        }
        for (name, value) in &c.add {
            if host::header(RESP, name).is_none() {
                host::log(host::LOG_INFO, &format!("[response-transformer] adding header {} => {}", name, value));
                host::replace_header(RESP, name, value);
            }
        }
        for (name, value) in &c.append {
            host::log(host::LOG_INFO, &format!("[response-transformer] appending header {} => {}", name, value));
            host::add_header(RESP, name, value);
        }
        CONTINUE
    }
}

fn new_root(_context_id: u32) -> Box<dyn Root> {
    Box::new(TransformerRoot { config: Rc::new(Config::default()) })
}
