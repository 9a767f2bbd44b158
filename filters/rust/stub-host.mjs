// Minimal, recording Proxy-Wasm host for smoke-testing our filter modules in Node.js without the
// C# host. It implements the `env` hostcalls and WASI preview1 functions the filters import
// (see /work/shared/docs/proxy-wasm-abi.md §1.6 and §3), records every call, and drives the
// start sequence and HTTP context callbacks on demand. Used by filters/rust/{headers,kong-tests}/smoke.mjs and
// filters/assemblyscript/smoke.mjs. Properties are served as strings (ngx/Kong encoding).
import { readFileSync } from "node:fs";

import { Status, MapType, BufferType, ProcExit, serializePairs, parsePairs } from "./stub-abi.mjs";
export { Status, MapType, BufferType, ProcExit, serializePairs, parsePairs };

const enc = new TextEncoder();
const dec = new TextDecoder();

const lower = (s) => s.toLowerCase();

class Stream {
  constructor(host, id, requestHeaders) {
    this.host = host;
    this.id = id;
    this.maps = { 0: [...requestHeaders], 1: [], 2: [], 3: [] };
    this.buffers = {};
    this.localResponse = null;
    this.continued = [];
    this.properties = new Map();
  }
  call(name, ...args) { return this.host.callGuest(this.id, name, ...args); }
  requestHeaders(eos = true) { return this.call("proxy_on_request_headers", this.maps[0].length, eos ? 1 : 0); }
  requestBody(body, eos = true) { this.buffers[BufferType.REQUEST_BODY] = enc.encode(body); return this.call("proxy_on_request_body", enc.encode(body).length, eos ? 1 : 0); }
  responseHeaders(headers, eos = false) {
    // Headers the filter added to the response map during request steps apply to the eventual response.
    if (headers) this.maps[2] = [...headers, ...this.maps[2]];
    return this.call("proxy_on_response_headers", this.maps[2].length, eos ? 1 : 0);
  }
  responseBody(body, eos = true) { this.buffers[BufferType.RESPONSE_BODY] = enc.encode(body); return this.call("proxy_on_response_body", enc.encode(body).length, eos ? 1 : 0); }
  finish() {
    const done = this.call("proxy_on_done");
    this.call("proxy_on_log");
    this.call("proxy_on_delete");
    return done;
  }
  header(mapType, name) {
    const hit = this.maps[mapType].find(([k]) => lower(k) === lower(name));
    return hit ? hit[1] : undefined;
  }
  headerValues(mapType, name) { return this.maps[mapType].filter(([k]) => lower(k) === lower(name)).map(([, v]) => v); }
}

export class StubHost {
  /**
   * @param {string} wasmPath module to load
   * @param {{rootId?: string, pluginName?: string, properties?: Record<string,string>, upstreams?: string[]}} options
   */
  constructor(wasmPath, options = {}) {
    this.module = new WebAssembly.Module(readFileSync(wasmPath));
    this.options = options;
    this.calls = [];          // every hostcall: {fn, ctx}
    this.logs = [];           // {level, msg, ctx}
    this.stdio = { 1: "", 2: "" };
    this.properties = new Map(Object.entries({ plugin_root_id: options.rootId ?? "", plugin_name: options.pluginName ?? "", ...(options.properties ?? {}) }));
    this.streams = new Map();
    this.rootBuffers = {};
    this.httpCalls = [];      // {token, upstream, headers, body, timeout, ctx}
    this.callResponse = null; // {headers, body} visible in on_http_call_response
    this.tickPeriod = 0;
    this.metrics = [];        // {type, name, value}
    this.nextToken = 1;
    this.nextContextId = 1;
    this.current = 0;
    this.effective = null;
    this.instance = null;
    this.unknownImportCalls = [];
  }

  get exports() { return this.instance.exports; }
  mem() { return new Uint8Array(this.instance.exports.memory.buffer); }
  view() { return new DataView(this.instance.exports.memory.buffer); }
  read(ptr, len) {
    ptr >>>= 0; len >>>= 0;
    if (len === 0) return new Uint8Array(0);
    const m = this.mem();
    if (ptr + len > m.length) throw new Error(`out of bounds read ${ptr}+${len}`);
    return m.slice(ptr, ptr + len);
  }
  str(ptr, len) { return dec.decode(this.read(ptr, len)); }
  u32(ptr, v) { this.view().setUint32(ptr >>> 0, v >>> 0, true); }

  /** Host→guest allocation protocol (§1.3): exactly n bytes, 0/0 for empty data. */
  give(bytes, retPtr, retSize) {
    if (bytes.length === 0) { this.u32(retPtr, 0); this.u32(retSize, 0); return Status.OK; }
    const alloc = this.exports.malloc ?? this.exports.proxy_on_memory_allocate;
    const saved = [this.current, this.effective];
    const p = alloc(bytes.length) >>> 0;
    [this.current, this.effective] = saved;
    if (p === 0) return Status.INVALID_MEMORY_ACCESS;
    this.mem().set(bytes, p);
    this.u32(retPtr, p);
    this.u32(retSize, bytes.length);
    return Status.OK;
  }

  ctx() { return this.effective ?? this.current; }
  stream() { return this.streams.get(this.ctx()); }

  record(fn, extra = {}) { this.calls.push({ fn, ctx: this.ctx(), ...extra }); }

  callGuest(contextId, name, ...args) {
    const f = this.exports[name];
    if (typeof f !== "function") return undefined;
    this.current = contextId;
    this.effective = null;
    try { return f(contextId, ...args); } finally { this.current = 0; this.effective = null; }
  }

  envImports() {
    const h = this;
    const map = (t) => (t === 6 || t === 7) ? null : h.stream()?.maps[t];
    const callMap = (t) => t === 6 ? (h.callResponse?.headers ?? []) : t === 7 ? [] : null;
    return {
      proxy_log(level, p, n) { const msg = h.str(p, n); h.logs.push({ level, msg, ctx: h.ctx() }); h.record("proxy_log", { level, msg }); return level > 5 ? Status.BAD_ARGUMENT : Status.OK; },
      proxy_get_log_level(ret) { h.record("proxy_get_log_level"); h.u32(ret, 0); return Status.OK; },
      proxy_get_current_time_nanoseconds(ret) { h.record("proxy_get_current_time_nanoseconds"); h.view().setBigUint64(ret >>> 0, BigInt(Date.now()) * 1000000n, true); return Status.OK; },
      proxy_set_tick_period_milliseconds(ms) { h.record("proxy_set_tick_period_milliseconds", { ms }); h.tickPeriod = ms; return Status.OK; },
      proxy_set_effective_context(id) { h.record("proxy_set_effective_context", { id }); if (id !== 0 && !h.streams.has(id) && id !== h.rootId) return Status.BAD_ARGUMENT; h.effective = id; return Status.OK; },
      proxy_get_buffer_bytes(type, start, max, retPtr, retSize) {
        h.record("proxy_get_buffer_bytes", { type, start, max });
        let buf;
        if (type === BufferType.VM_CONFIGURATION || type === BufferType.PLUGIN_CONFIGURATION) buf = h.rootBuffers[type] ?? new Uint8Array(0);
        else if (type === BufferType.HTTP_CALL_RESPONSE_BODY) buf = h.callResponse ? enc.encode(h.callResponse.body ?? "") : undefined;
        else if (type > 8) return Status.BAD_ARGUMENT;
        else buf = h.stream()?.buffers[type];
        if (buf === undefined) return Status.NOT_FOUND;
        start >>>= 0; max >>>= 0;
        return h.give(start >= buf.length ? new Uint8Array(0) : buf.subarray(start, Math.min(buf.length, start + max)), retPtr, retSize);
      },
      proxy_get_buffer_status(type, retSize, retFlags) {
        h.record("proxy_get_buffer_status", { type });
        const buf = (type === 6 || type === 7) ? (h.rootBuffers[type] ?? new Uint8Array(0)) : h.stream()?.buffers[type];
        if (buf === undefined) return Status.NOT_FOUND;
        h.u32(retSize, buf.length); h.u32(retFlags, 0); return Status.OK;
      },
      proxy_set_buffer_bytes(type, start, size, p, n) {
        h.record("proxy_set_buffer_bytes", { type, start, size, data: h.str(p, n) });
        const s = h.stream(); if (!s || type > 3) return Status.BAD_ARGUMENT;
        const old = s.buffers[type] ?? new Uint8Array(0); start >>>= 0; size >>>= 0;
        const data = h.read(p, n);
        const head = old.subarray(0, Math.min(start, old.length)), tail = old.subarray(Math.min(old.length, start + size));
        const out = new Uint8Array(head.length + data.length + tail.length); out.set(head); out.set(data, head.length); out.set(tail, head.length + data.length);
        s.buffers[type] = out; return Status.OK;
      },
      proxy_get_header_map_pairs(t, retPtr, retSize) {
        h.record("proxy_get_header_map_pairs", { map: t });
        const m = map(t) ?? callMap(t); if (!m) return Status.BAD_ARGUMENT;
        return h.give(m.length ? serializePairs(m) : new Uint8Array(0), retPtr, retSize);
      },
      proxy_set_header_map_pairs(t, p, n) {
        h.record("proxy_set_header_map_pairs", { map: t });
        const s = h.stream(); if (!s || t > 3) return Status.BAD_ARGUMENT; s.maps[t] = parsePairs(h.read(p, n)); return Status.OK;
      },
      proxy_get_header_map_size(t, ret) { h.record("proxy_get_header_map_size", { map: t }); const m = map(t) ?? callMap(t); if (!m) return Status.BAD_ARGUMENT; h.u32(ret, serializePairs(m).length); return Status.OK; },
      proxy_get_header_map_value(t, kp, kn, retPtr, retSize) {
        const key = h.str(kp, kn); h.record("proxy_get_header_map_value", { map: t, key });
        const m = map(t) ?? callMap(t); if (!m) return Status.BAD_ARGUMENT;
        const hit = m.find(([k]) => lower(k) === lower(key));
        if (!hit) return Status.NOT_FOUND;
        return h.give(enc.encode(hit[1]), retPtr, retSize);
      },
      proxy_add_header_map_value(t, kp, kn, vp, vn) {
        const key = h.str(kp, kn), value = h.str(vp, vn); h.record("proxy_add_header_map_value", { map: t, key, value });
        const m = map(t); if (!m) return Status.BAD_ARGUMENT; m.push([key, value]); return Status.OK;
      },
      proxy_replace_header_map_value(t, kp, kn, vp, vn) {
        const key = h.str(kp, kn), value = h.str(vp, vn); h.record("proxy_replace_header_map_value", { map: t, key, value });
        const s = h.stream(); if (!s || t > 3) return Status.BAD_ARGUMENT;
        s.maps[t] = s.maps[t].filter(([k]) => lower(k) !== lower(key)); s.maps[t].push([key, value]); return Status.OK;
      },
      proxy_remove_header_map_value(t, kp, kn) {
        const key = h.str(kp, kn); h.record("proxy_remove_header_map_value", { map: t, key });
        const s = h.stream(); if (!s || t > 3) return Status.BAD_ARGUMENT;
        s.maps[t] = s.maps[t].filter(([k]) => lower(k) !== lower(key)); return Status.OK;
      },
      proxy_send_local_response(status, dp, dn, bp, bn, hp, hn, grpc) {
        const details = h.str(dp, dn), body = h.str(bp, bn), headers = parsePairs(h.read(hp, hn));
        h.record("proxy_send_local_response", { status, details, body, headers, grpc });
        const s = h.stream(); if (!s) return Status.BAD_ARGUMENT;
        if (status < 100 || status > 999) return Status.BAD_ARGUMENT;
        s.localResponse = { status, details, body, headers, grpc }; return Status.OK;
      },
      proxy_continue_stream(type) { h.record("proxy_continue_stream", { type }); const s = h.stream(); if (type > 3) return Status.BAD_ARGUMENT; s?.continued.push(type); return Status.OK; },
      proxy_close_stream(type) { h.record("proxy_close_stream", { type }); return Status.OK; },
      proxy_http_call(up, un, hp, hn, bp, bn, tp, tn, timeout, retToken) {
        const upstream = h.str(up, un), headers = parsePairs(h.read(hp, hn)), body = h.str(bp, bn);
        h.record("proxy_http_call", { upstream, headers, body, timeout });
        if (h.options.upstreams && !h.options.upstreams.includes(upstream)) return Status.BAD_ARGUMENT;
        const token = h.nextToken++;
        h.httpCalls.push({ token, upstream, headers, body, timeout, ctx: h.ctx() });
        h.u32(retToken, token); return Status.OK;
      },
      proxy_get_status(retCode, retPtr, retSize) { h.record("proxy_get_status"); h.u32(retCode, 0); return h.give(new Uint8Array(0), retPtr, retSize); },
      proxy_get_property(pp, pn, retPtr, retSize) {
        const path = h.str(pp, pn).split("\0").join(".");
        h.record("proxy_get_property", { path });
        const local = h.stream()?.properties;
        const v = local?.has(path) ? local.get(path) : h.properties.get(path);
        if (v === undefined) return Status.NOT_FOUND;
        return h.give(enc.encode(v), retPtr, retSize);
      },
      proxy_set_property(pp, pn, vp, vn) {
        const path = h.str(pp, pn).split("\0").join(".");
        const value = vp === 0 ? null : h.str(vp, vn);
        h.record("proxy_set_property", { path, value });
        const target = h.stream()?.properties ?? h.properties;
        if (value === null) target.delete(path); else target.set(path, value);
        return Status.OK;
      },
      proxy_define_metric(type, np, nn, ret) { const name = h.str(np, nn); h.record("proxy_define_metric", { type, name }); if (type > 2) return Status.BAD_ARGUMENT; h.metrics.push({ type, name, value: 0n }); h.u32(ret, h.metrics.length); return Status.OK; },
      proxy_increment_metric(id, delta) { h.record("proxy_increment_metric", { id, delta }); const m = h.metrics[id - 1]; if (!m) return Status.NOT_FOUND; m.value += BigInt(delta); return Status.OK; },
      proxy_record_metric(id, value) { h.record("proxy_record_metric", { id, value }); const m = h.metrics[id - 1]; if (!m) return Status.NOT_FOUND; m.value = BigInt(value); return Status.OK; },
      proxy_get_metric(id, ret) { h.record("proxy_get_metric", { id }); const m = h.metrics[id - 1]; if (!m) return Status.NOT_FOUND; h.view().setBigUint64(ret >>> 0, BigInt.asUintN(64, m.value), true); return Status.OK; },
      proxy_done() { h.record("proxy_done"); return Status.OK; },
    };
  }

  wasiImports() {
    const h = this;
    return {
      fd_write(fd, iovs, iovsLen, retN) {
        let total = 0, text = "";
        const v = h.view();
        for (let i = 0; i < iovsLen; i++) { const p = v.getUint32(iovs + i * 8, true), n = v.getUint32(iovs + i * 8 + 4, true); text += h.str(p, n); total += n; }
        h.record("fd_write", { fd, text });
        if (fd !== 1 && fd !== 2) return 8;
        h.stdio[fd] += text; h.u32(retN, total); return 0;
      },
      proc_exit(code) { h.record("proc_exit", { code }); throw new ProcExit(code); },
      environ_sizes_get(c, s) { h.record("environ_sizes_get"); h.u32(c, 0); h.u32(s, 0); return 0; },
      environ_get() { h.record("environ_get"); return 0; },
      args_sizes_get(c, s) { h.record("args_sizes_get"); h.u32(c, 0); h.u32(s, 0); return 0; },
      args_get() { h.record("args_get"); return 0; },
      clock_time_get(id, _precision, ret) { h.record("clock_time_get", { id }); if (id > 1) return 58; h.view().setBigUint64(ret >>> 0, BigInt(Date.now()) * 1000000n, true); return 0; },
      random_get(p, n) { h.record("random_get", { n }); const m = h.mem(); for (let i = 0; i < n; i++) m[p + i] = (i * 31 + 7) & 0xff; return 0; },
      fd_prestat_get() { h.record("fd_prestat_get"); return 8; },
      fd_prestat_dir_name() { return 52; },
      fd_fdstat_get() { h.record("fd_fdstat_get"); return 8; },
      fd_close() { return 8; },
      fd_seek() { return 8; },
      sched_yield() { return 0; },
      poll_oneoff(_i, _o, _n, ret) { h.u32(ret, 0); return 0; },
    };
  }

  /** Instantiate, run _initialize/_start, then create the root context and run vm_start + configure. */
  start({ vmConfig = "", pluginConfig = "" } = {}) {
    const env = this.envImports(), wasi = this.wasiImports();
    const imports = {};
    for (const imp of WebAssembly.Module.imports(this.module)) {
      imports[imp.module] ??= {};
      const table = imp.module === "env" ? env : imp.module.startsWith("wasi") ? wasi : {};
      imports[imp.module][imp.name] = table[imp.name] ?? ((...args) => { this.unknownImportCalls.push(`${imp.module}.${imp.name}`); throw new Error(`unimplemented import ${imp.module}.${imp.name}(${args})`); });
    }
    this.instance = new WebAssembly.Instance(this.module, imports);
    this.callsDuringInstantiate = this.calls.length; // AS start sections run guest code here
    if (this.exports._initialize) this.callGuest(0, "_initialize");
    else if (this.exports._start) this.callGuest(0, "_start");
    this.rootBuffers[BufferType.VM_CONFIGURATION] = enc.encode(vmConfig);
    this.rootBuffers[BufferType.PLUGIN_CONFIGURATION] = enc.encode(pluginConfig);
    this.rootId = this.nextContextId++;
    this.callGuest(this.rootId, "proxy_on_context_create", 0);
    const vmStart = this.callGuest(this.rootId, "proxy_on_vm_start", enc.encode(vmConfig).length);
    const configure = this.callGuest(this.rootId, "proxy_on_configure", enc.encode(pluginConfig).length);
    return { vmStart, configure };
  }

  /** Re-run proxy_on_configure on the existing root context with a new plugin configuration. */
  configure(pluginConfig) {
    this.rootBuffers[BufferType.PLUGIN_CONFIGURATION] = enc.encode(pluginConfig);
    return this.callGuest(this.rootId, "proxy_on_configure", enc.encode(pluginConfig).length);
  }

  /** Create an HTTP context (child of the root) with the given request header pairs. */
  http(requestHeaders) {
    const id = this.nextContextId++;
    const s = new Stream(this, id, requestHeaders);
    this.streams.set(id, s);
    this.callGuest(id, "proxy_on_context_create", this.rootId);
    return s;
  }

  /** Deliver an HTTP call response (headers=null ⇒ failed call) to the root context. */
  completeHttpCall(token, { headers = null, body = "" } = {}) {
    this.callResponse = headers ? { headers, body } : null;
    try {
      return this.callGuest(this.rootId, "proxy_on_http_call_response", token, headers ? headers.length : 0, headers ? enc.encode(body).length : 0, 0);
    } finally { this.callResponse = null; }
  }

  tick() { return this.callGuest(this.rootId, "proxy_on_tick"); }
  callsOf(fn) { return this.calls.filter((c) => c.fn === fn); }
  logText() { return this.logs.map((l) => l.msg).join("\n"); }
}
