//! Raw Proxy-Wasm ABI 0.2.1 host imports (module `env`) and thin safe wrappers.
//! Our own code, no SDK: see /work/shared/docs/proxy-wasm-abi.md §1.3–§1.6. Only the
//! functions a filter actually calls end up as imports of its module (the linker drops the rest).
#![allow(dead_code)]

use std::alloc::{alloc, dealloc, Layout};

pub const OK: u32 = 0;
pub const NOT_FOUND: u32 = 1;

pub const LOG_DEBUG: u32 = 1;
pub const LOG_INFO: u32 = 2;
pub const LOG_WARN: u32 = 3;
pub const LOG_ERROR: u32 = 4;

pub const REQUEST_HEADERS: u32 = 0;
pub const RESPONSE_HEADERS: u32 = 2;
pub const HTTP_CALL_RESPONSE_HEADERS: u32 = 6;

pub const REQUEST_BODY: u32 = 0;
pub const RESPONSE_BODY: u32 = 1;
pub const HTTP_CALL_RESPONSE_BODY: u32 = 4;
pub const VM_CONFIGURATION: u32 = 6;
pub const PLUGIN_CONFIGURATION: u32 = 7;

pub const STREAM_REQUEST: u32 = 0;

pub const METRIC_COUNTER: u32 = 0;
pub const METRIC_GAUGE: u32 = 1;
pub const METRIC_HISTOGRAM: u32 = 2;

#[link(wasm_import_module = "env")]
extern "C" {
    fn proxy_log(level: u32, msg: *const u8, len: usize) -> u32;
    fn proxy_get_buffer_bytes(kind: u32, start: usize, max: usize, ret_ptr: *mut *mut u8, ret_len: *mut usize) -> u32;
    fn proxy_set_buffer_bytes(kind: u32, start: usize, size: usize, data: *const u8, data_len: usize) -> u32;
    fn proxy_get_header_map_pairs(map: u32, ret_ptr: *mut *mut u8, ret_len: *mut usize) -> u32;
    fn proxy_get_header_map_value(map: u32, key: *const u8, key_len: usize, ret_ptr: *mut *mut u8, ret_len: *mut usize) -> u32;
    fn proxy_add_header_map_value(map: u32, key: *const u8, key_len: usize, value: *const u8, value_len: usize) -> u32;
    fn proxy_replace_header_map_value(map: u32, key: *const u8, key_len: usize, value: *const u8, value_len: usize) -> u32;
    fn proxy_remove_header_map_value(map: u32, key: *const u8, key_len: usize) -> u32;
    fn proxy_send_local_response(status: u32, details: *const u8, details_len: usize, body: *const u8, body_len: usize,
        headers: *const u8, headers_len: usize, grpc_status: i32) -> u32;
    fn proxy_continue_stream(stream: u32) -> u32;
    fn proxy_http_call(upstream: *const u8, upstream_len: usize, headers: *const u8, headers_len: usize, body: *const u8,
        body_len: usize, trailers: *const u8, trailers_len: usize, timeout_ms: u32, ret_token: *mut u32) -> u32;
    fn proxy_get_property(path: *const u8, path_len: usize, ret_ptr: *mut *mut u8, ret_len: *mut usize) -> u32;
    fn proxy_set_property(path: *const u8, path_len: usize, value: *const u8, value_len: usize) -> u32;
    fn proxy_set_effective_context(context_id: u32) -> u32;
    fn proxy_set_tick_period_milliseconds(period_ms: u32) -> u32;
    fn proxy_define_metric(kind: u32, name: *const u8, name_len: usize, ret_id: *mut u32) -> u32;
    fn proxy_increment_metric(id: u32, delta: i64) -> u32;
    fn proxy_record_metric(id: u32, value: u64) -> u32;
}

/// Guest allocator the host uses to hand us data (§1.3): exactly `size` bytes, align 1.
#[no_mangle]
pub extern "C" fn proxy_on_memory_allocate(size: usize) -> *mut u8 {
    if size == 0 {
        return std::ptr::NonNull::<u8>::dangling().as_ptr();
    }
    unsafe { alloc(Layout::from_size_align_unchecked(size, 1)) }
}

/// Takes ownership of host-allocated bytes; a null pointer means "empty".
fn take(ptr: *mut u8, len: usize) -> Vec<u8> {
    if ptr.is_null() || len == 0 {
        return Vec::new();
    }
    let out = unsafe { std::slice::from_raw_parts(ptr, len) }.to_vec();
    unsafe { dealloc(ptr, Layout::from_size_align_unchecked(len, 1)) };
    out
}

fn returned(call: impl FnOnce(*mut *mut u8, *mut usize) -> u32) -> Result<Vec<u8>, u32> {
    let mut ptr: *mut u8 = std::ptr::null_mut();
    let mut len: usize = 0;
    match call(&mut ptr, &mut len) {
        OK => Ok(take(ptr, len)),
        status => Err(status),
    }
}

pub fn log(level: u32, msg: &str) {
    unsafe { proxy_log(level, msg.as_ptr(), msg.len()) };
}

pub fn buffer(kind: u32, start: usize, max: usize) -> Result<Vec<u8>, u32> {
    returned(|p, l| unsafe { proxy_get_buffer_bytes(kind, start, max, p, l) })
}

/// Replaces `size` bytes at `start` of a body buffer with `data` (`(0, len)` replaces the whole buffer).
pub fn set_buffer(kind: u32, start: usize, size: usize, data: &[u8]) -> u32 {
    unsafe { proxy_set_buffer_bytes(kind, start, size, data.as_ptr(), data.len()) }
}

/// A header value, `None` when absent (NOT_FOUND) or on any other status.
pub fn header(map: u32, name: &str) -> Option<String> {
    returned(|p, l| unsafe { proxy_get_header_map_value(map, name.as_ptr(), name.len(), p, l) })
        .ok()
        .map(|v| String::from_utf8_lossy(&v).into_owned())
}

pub fn headers(map: u32) -> Vec<(String, String)> {
    returned(|p, l| unsafe { proxy_get_header_map_pairs(map, p, l) }).map(|b| parse_pairs(&b)).unwrap_or_default()
}

pub fn add_header(map: u32, name: &str, value: &str) -> u32 {
    unsafe { proxy_add_header_map_value(map, name.as_ptr(), name.len(), value.as_ptr(), value.len()) }
}

pub fn replace_header(map: u32, name: &str, value: &str) -> u32 {
    unsafe { proxy_replace_header_map_value(map, name.as_ptr(), name.len(), value.as_ptr(), value.len()) }
}

pub fn remove_header(map: u32, name: &str) -> u32 {
    unsafe { proxy_remove_header_map_value(map, name.as_ptr(), name.len()) }
}

pub fn send_local_response(status: u32, details: &str, body: &[u8], headers: &[(&str, &str)]) -> u32 {
    let pairs = serialize_pairs(headers);
    unsafe {
        proxy_send_local_response(status, details.as_ptr(), details.len(), body.as_ptr(), body.len(), pairs.as_ptr(),
            pairs.len(), -1)
    }
}

pub fn continue_request() -> u32 {
    unsafe { proxy_continue_stream(STREAM_REQUEST) }
}

pub fn http_call(upstream: &str, headers: &[(&str, &str)], body: &[u8], timeout_ms: u32) -> Result<u32, u32> {
    let pairs = serialize_pairs(headers);
    let mut token = 0u32;
    let status = unsafe {
        proxy_http_call(upstream.as_ptr(), upstream.len(), pairs.as_ptr(), pairs.len(), body.as_ptr(), body.len(),
            std::ptr::null(), 0, timeout_ms, &mut token)
    };
    if status == OK { Ok(token) } else { Err(status) }
}

/// Property path segments are joined with NUL (§1.4).
fn property_path(path: &[&str]) -> Vec<u8> {
    path.join("\0").into_bytes()
}

pub fn get_property(path: &[&str]) -> Result<Vec<u8>, u32> {
    let p = property_path(path);
    returned(|rp, rl| unsafe { proxy_get_property(p.as_ptr(), p.len(), rp, rl) })
}

/// `None` clears the property (null value pointer, size 0).
pub fn set_property(path: &[&str], value: Option<&str>) -> u32 {
    let p = property_path(path);
    let (vp, vl) = value.map_or((std::ptr::null(), 0), |v| (v.as_ptr(), v.len()));
    unsafe { proxy_set_property(p.as_ptr(), p.len(), vp, vl) }
}

pub fn set_effective_context(id: u32) -> u32 {
    unsafe { proxy_set_effective_context(id) }
}

pub fn set_tick_period(ms: u32) -> u32 {
    unsafe { proxy_set_tick_period_milliseconds(ms) }
}

pub fn define_metric(kind: u32, name: &str) -> Result<u32, u32> {
    let mut id = 0u32;
    match unsafe { proxy_define_metric(kind, name.as_ptr(), name.len(), &mut id) } {
        OK => Ok(id),
        status => Err(status),
    }
}

pub fn increment_metric(id: u32, delta: i64) -> u32 {
    unsafe { proxy_increment_metric(id, delta) }
}

pub fn record_metric(id: u32, value: u64) -> u32 {
    unsafe { proxy_record_metric(id, value) }
}

/// Proxy-Wasm map encoding: u32 count, count × (u32 key_len, u32 value_len), then NUL-terminated keys/values.
pub fn serialize_pairs(pairs: &[(&str, &str)]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&(pairs.len() as u32).to_le_bytes());
    for (k, v) in pairs {
        out.extend_from_slice(&(k.len() as u32).to_le_bytes());
        out.extend_from_slice(&(v.len() as u32).to_le_bytes());
    }
    for (k, v) in pairs {
        out.extend_from_slice(k.as_bytes());
        out.push(0);
        out.extend_from_slice(v.as_bytes());
        out.push(0);
    }
    out
}

pub fn parse_pairs(bytes: &[u8]) -> Vec<(String, String)> {
    let u32_at = |at: usize| bytes.get(at..at + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize);
    let count = match u32_at(0) {
        Some(n) => n,
        None => return Vec::new(),
    };
    let mut out = Vec::with_capacity(count);
    let mut data = 4 + count * 8;
    for i in 0..count {
        let (kl, vl) = match (u32_at(4 + i * 8), u32_at(8 + i * 8)) {
            (Some(k), Some(v)) => (k, v),
            _ => break,
        };
        let key = bytes.get(data..data + kl);
        let value = bytes.get(data + kl + 1..data + kl + 1 + vl);
        match (key, value) {
            (Some(k), Some(v)) => out.push((String::from_utf8_lossy(k).into_owned(), String::from_utf8_lossy(v).into_owned())),
            _ => break,
        }
        data += kl + vl + 2;
    }
    out
}
