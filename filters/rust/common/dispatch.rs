//! Guest side of the Proxy-Wasm ABI 0.2.1: the ABI marker, the `proxy_on_*` callbacks the host
//! calls, and a small context registry that routes them to the filter's `Root`/`Http` objects.
//! The including crate provides `fn new_root(context_id: u32) -> Box<dyn Root>` at its root.
#![allow(dead_code)]

use super::hostcalls as host;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;

pub const CONTINUE: u32 = 0;
pub const PAUSE: u32 = 1;

/// A root (plugin) context: one per configured filter instance.
pub trait Root {
    fn on_vm_start(&mut self, _vm_config_size: usize) -> bool {
        true
    }
    fn on_configure(&mut self, config_size: usize) -> bool;
    fn on_tick(&mut self) {}
    fn create_http(&mut self, context_id: u32) -> Box<dyn Http>;
}

/// An HTTP (stream) context: one per request. Every callback defaults to CONTINUE / no-op.
pub trait Http {
    fn on_request_headers(&mut self, _headers: usize, _end_of_stream: bool) -> u32 {
        CONTINUE
    }
    fn on_request_body(&mut self, _size: usize, _end_of_stream: bool) -> u32 {
        CONTINUE
    }
    fn on_response_headers(&mut self, _headers: usize, _end_of_stream: bool) -> u32 {
        CONTINUE
    }
    fn on_response_body(&mut self, _size: usize, _end_of_stream: bool) -> u32 {
        CONTINUE
    }
    /// Called with the effective context already set to this HTTP context.
    fn on_http_call_response(&mut self, _token: u32, _headers: usize, _body_size: usize) {}
    fn on_log(&mut self) {}
}

thread_local! {
    static ROOTS: RefCell<HashMap<u32, Box<dyn Root>>> = RefCell::new(HashMap::new());
    static HTTP: RefCell<HashMap<u32, Box<dyn Http>>> = RefCell::new(HashMap::new());
    static CALLOUTS: RefCell<HashMap<u32, u32>> = RefCell::new(HashMap::new());
    static CURRENT: Cell<u32> = Cell::new(0);
}

#[no_mangle]
pub extern "C" fn proxy_abi_version_0_2_1() {}

/// The context whose callback is running (0 outside callbacks).
pub fn current_context() -> u32 {
    CURRENT.with(|c| c.get())
}

/// `proxy_http_call` that remembers which context the response belongs to.
pub fn dispatch_http_call(upstream: &str, headers: &[(&str, &str)], body: &[u8], timeout_ms: u32) -> Result<u32, u32> {
    let token = host::http_call(upstream, headers, body, timeout_ms)?;
    let owner = current_context();
    CALLOUTS.with(|c| c.borrow_mut().insert(token, owner));
    Ok(token)
}

/// Runs `f` on a context taken out of its table (so `f` may use the tables itself), then puts it back.
fn with_context<T: ?Sized, R>(
    table: &'static std::thread::LocalKey<RefCell<HashMap<u32, Box<T>>>>,
    id: u32,
    what: &str,
    f: impl FnOnce(&mut T) -> R,
) -> R {
    let mut ctx = table.with(|t| t.borrow_mut().remove(&id)).unwrap_or_else(|| panic!("invalid {} context_id {}", what, id));
    let previous = CURRENT.with(|c| c.replace(id));
    let result = f(&mut ctx);
    CURRENT.with(|c| c.set(previous));
    table.with(|t| t.borrow_mut().insert(id, ctx));
    result
}

fn root<R>(id: u32, f: impl FnOnce(&mut dyn Root) -> R) -> R {
    with_context(&ROOTS, id, "root", |r| f(r))
}

fn http<R>(id: u32, f: impl FnOnce(&mut dyn Http) -> R) -> R {
    with_context(&HTTP, id, "http", |h| f(h))
}

#[no_mangle]
pub extern "C" fn proxy_on_context_create(context_id: u32, parent_id: u32) {
    if parent_id == 0 {
        let r = crate::new_root(context_id);
        ROOTS.with(|t| t.borrow_mut().insert(context_id, r));
    } else {
        let h = root(parent_id, |r| r.create_http(context_id));
        HTTP.with(|t| t.borrow_mut().insert(context_id, h));
    }
}

#[no_mangle]
pub extern "C" fn proxy_on_vm_start(context_id: u32, size: usize) -> u32 {
    root(context_id, |r| r.on_vm_start(size)) as u32
}

#[no_mangle]
pub extern "C" fn proxy_on_configure(context_id: u32, size: usize) -> u32 {
    root(context_id, |r| r.on_configure(size)) as u32
}

#[no_mangle]
pub extern "C" fn proxy_on_tick(context_id: u32) {
    root(context_id, |r| r.on_tick())
}

#[no_mangle]
pub extern "C" fn proxy_on_request_headers(context_id: u32, headers: usize, eos: u32) -> u32 {
    http(context_id, |h| h.on_request_headers(headers, eos != 0))
}

#[no_mangle]
pub extern "C" fn proxy_on_request_body(context_id: u32, size: usize, eos: u32) -> u32 {
    http(context_id, |h| h.on_request_body(size, eos != 0))
}

#[no_mangle]
pub extern "C" fn proxy_on_response_headers(context_id: u32, headers: usize, eos: u32) -> u32 {
    http(context_id, |h| h.on_response_headers(headers, eos != 0))
}

#[no_mangle]
pub extern "C" fn proxy_on_response_body(context_id: u32, size: usize, eos: u32) -> u32 {
    http(context_id, |h| h.on_response_body(size, eos != 0))
}

#[no_mangle]
pub extern "C" fn proxy_on_http_call_response(_root_id: u32, token: u32, headers: usize, body_size: usize, _trailers: usize) {
    let owner = CALLOUTS.with(|c| c.borrow_mut().remove(&token));
    match owner {
        Some(id) if HTTP.with(|t| t.borrow().contains_key(&id)) => {
            host::set_effective_context(id);
            http(id, |h| h.on_http_call_response(token, headers, body_size));
        }
        _ => host::log(host::LOG_WARN, &format!("http call response for unknown or finished context (token {})", token)),
    }
}

#[no_mangle]
pub extern "C" fn proxy_on_done(_context_id: u32) -> u32 {
    1
}

#[no_mangle]
pub extern "C" fn proxy_on_log(context_id: u32) {
    if HTTP.with(|t| t.borrow().contains_key(&context_id)) {
        http(context_id, |h| h.on_log());
    }
}

#[no_mangle]
pub extern "C" fn proxy_on_delete(context_id: u32) {
    HTTP.with(|t| t.borrow_mut().remove(&context_id));
    ROOTS.with(|t| t.borrow_mut().remove(&context_id));
    CALLOUTS.with(|c| c.borrow_mut().retain(|_, owner| *owner != context_id));
}
