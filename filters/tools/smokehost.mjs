// A minimal in-process Proxy-Wasm host for sanity-checking the C filters with Node.js.
// It is NOT Gatehouse's host and not the conformance suite: it implements just enough of the ABI
// (maps, buffers, local responses, http calls, shared data, queues, metrics, properties, WASI
// basics) to drive a filter through the start sequence and one HTTP context, recording every
// import call so smoke.mjs can assert on them.
import { readFileSync } from 'node:fs';

export const Status = { OK: 0, NOT_FOUND: 1, BAD_ARGUMENT: 2, EMPTY: 7, CAS_MISMATCH: 8 };
export class ProcExit extends Error {
  constructor(code) { super(`proc_exit(${code})`); this.code = code; }
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const bytes = (s) => (typeof s === 'string' ? enc.encode(s) : s ?? new Uint8Array());

export function serializePairs(pairs) {
  const entries = pairs.map(([k, v]) => [bytes(k), bytes(v)]);
  if (entries.length === 0) return new Uint8Array();
  let size = 4;
  for (const [k, v] of entries) size += 8 + k.length + 1 + v.length + 1;
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, entries.length, true);
  let off = 4 + 8 * entries.length;
  entries.forEach(([k, v], i) => {
    dv.setUint32(4 + 8 * i, k.length, true);
    dv.setUint32(8 + 8 * i, v.length, true);
    out.set(k, off); off += k.length + 1;
    out.set(v, off); off += v.length + 1;
  });
  return out;
}

export function parsePairs(buf) {
  if (buf.length < 4) return [];
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.length);
  const n = dv.getUint32(0, true);
  let off = 4 + 8 * n;
  const out = [];
  for (let i = 0; i < n; i++) {
    const kl = dv.getUint32(4 + 8 * i, true), vl = dv.getUint32(8 + 8 * i, true);
    const k = dec.decode(buf.subarray(off, off + kl)); off += kl + 1;
    const v = dec.decode(buf.subarray(off, off + vl)); off += vl + 1;
    out.push([k, v]);
  }
  return out;
}

export class SmokeHost {
  constructor(path, opts = {}) {
    this.path = path;
    this.module = new WebAssembly.Module(readFileSync(path));
    this.imports = WebAssembly.Module.imports(this.module).map((i) => `${i.module}.${i.name}`);
    this.exportNames = WebAssembly.Module.exports(this.module).map((e) => e.name);
    this.pluginConfig = bytes(opts.pluginConfig ?? '');
    this.vmConfig = bytes(opts.vmConfig ?? '');
    this.env = opts.env ?? [];
    this.properties = new Map(Object.entries(opts.properties ?? {}));
    this.logs = [];          // {level, msg}
    this.calls = [];         // import names in call order
    this.maps = { 0: [], 1: [], 2: [], 3: [], 6: [], 7: [] };
    this.buffers = { 0: new Uint8Array(), 1: new Uint8Array(), 4: new Uint8Array() };
    this.localResponse = null;
    this.httpCalls = [];
    this.nextToken = 1;
    this.continued = [];
    this.effective = null;
    this.current = 0;
    this.tickPeriod = 0;
    this.shared = opts.shared ?? { data: new Map(), cas: 1, queues: new Map(), nextQueue: 1, metrics: new Map(), nextMetric: 1 };
    this.enqueued = [];
    this.stdout = [];
    this.stderr = [];
    this.nextId = 1;
  }

  get ex() { return this.instance.exports; }
  dv() { return new DataView(this.ex.memory.buffer); }
  u8() { return new Uint8Array(this.ex.memory.buffer); }
  read(ptr, len) { return this.u8().slice(ptr >>> 0, (ptr >>> 0) + (len >>> 0)); }
  str(ptr, len) { return dec.decode(this.read(ptr, len)); }
  w32(ptr, v) { this.dv().setUint32(ptr >>> 0, v >>> 0, true); }
  w64(ptr, v) { this.dv().setBigUint64(ptr >>> 0, BigInt(v), true); }
  log(level, msg) { this.logs.push({ level, msg }); }
  messages(prefix = '') { return this.logs.map((l) => l.msg).filter((m) => m.startsWith(prefix)); }

  copyOut(data, ptrPtr, sizePtr) {
    const b = bytes(data);
    let addr = 0;
    if (b.length > 0) {
      addr = this.ex.proxy_on_memory_allocate(b.length);
      if (addr === 0) return 6;
      this.u8().set(b, addr);
    }
    this.w32(ptrPtr, addr);
    this.w32(sizePtr, b.length);
    return Status.OK;
  }

  mapGet(type) { return this.maps[type]; }
  findHeader(type, name) {
    const e = this.maps[type]?.find(([k]) => k.toLowerCase() === name.toLowerCase());
    return e ? e[1] : undefined;
  }

  envImports() {
    const h = this;
    const rec = (name, fn) => (...args) => { h.calls.push(name); return fn(...args); };
    const impl = {
      proxy_log: (lvl, p, n) => { h.log(lvl, h.str(p, n)); return 0; },
      proxy_get_log_level: (p) => { h.w32(p, 2); return 0; },
      proxy_get_current_time_nanoseconds: (p) => { h.w64(p, BigInt(Date.now()) * 1000000n); return 0; },
      proxy_set_tick_period_milliseconds: (ms) => { h.tickPeriod = ms; return 0; },
      proxy_set_effective_context: (id) => { h.effective = id; return 0; },
      proxy_done: () => 0,
      proxy_get_configuration: (pp, sp) => h.copyOut(h.current === 'vm' ? h.vmConfig : h.pluginConfig, pp, sp),
      proxy_continue_request: () => { h.continued.push(0); return 0; },
      proxy_continue_response: () => { h.continued.push(1); return 0; },
      proxy_continue_stream: (t) => { h.continued.push(t); return t > 3 ? 2 : 0; },
      proxy_close_stream: () => 0,
      proxy_get_buffer_status: (t, sp, fp) => {
        const b = h.bufferFor(t); if (!b) return 1;
        h.w32(sp, b.length); h.w32(fp, 0); return 0;
      },
      proxy_get_buffer_bytes: (t, start, max, pp, sp) => {
        const b = h.bufferFor(t); if (!b) return t > 8 ? 2 : 1;
        return h.copyOut(b.subarray(start, start + max), pp, sp);
      },
      proxy_set_buffer_bytes: (t, start, size, p, n) => {
        const b = h.buffers[t]; if (!b) return 2;
        const data = h.read(p, n);
        const out = new Uint8Array(Math.min(b.length, start) + n + Math.max(0, b.length - (start + size)));
        out.set(b.subarray(0, start)); out.set(data, Math.min(b.length, start));
        out.set(b.subarray(Math.min(b.length, start + size)), Math.min(b.length, start) + n);
        h.buffers[t] = out; return 0;
      },
      proxy_get_header_map_pairs: (t, pp, sp) => (h.maps[t] ? h.copyOut(serializePairs(h.maps[t]), pp, sp) : 2),
      proxy_set_header_map_pairs: (t, p, n) => { h.maps[t] = parsePairs(h.read(p, n)); return 0; },
      proxy_get_header_map_size: (t, sp) => { h.w32(sp, serializePairs(h.maps[t] ?? []).length); return 0; },
      proxy_get_header_map_value: (t, kp, kn, pp, sp) => {
        if (!h.maps[t]) return 2;
        const v = h.findHeader(t, h.str(kp, kn));
        if (v === undefined) {
          if (h.exportNames.includes('proxy_abi_version_0_1_0')) return h.copyOut('', pp, sp);
          return 1;
        }
        return h.copyOut(v, pp, sp);
      },
      proxy_add_header_map_value: (t, kp, kn, vp, vn) => {
        if (!h.maps[t]) return 2; h.maps[t].push([h.str(kp, kn), h.str(vp, vn)]); return 0;
      },
      proxy_replace_header_map_value: (t, kp, kn, vp, vn) => {
        if (!h.maps[t]) return 2;
        const k = h.str(kp, kn);
        h.maps[t] = h.maps[t].filter(([x]) => x.toLowerCase() !== k.toLowerCase());
        h.maps[t].push([k, h.str(vp, vn)]); return 0;
      },
      proxy_remove_header_map_value: (t, kp, kn) => {
        if (!h.maps[t]) return 2;
        const k = h.str(kp, kn);
        h.maps[t] = h.maps[t].filter(([x]) => x.toLowerCase() !== k.toLowerCase()); return 0;
      },
      proxy_send_local_response: (status, dp, dn, bp, bn, hp, hn, grpc) => {
        if (status < 100 || status > 999) return 2;
        h.localResponse = { status, details: h.str(dp, dn), body: h.str(bp, bn), headers: parsePairs(h.read(hp, hn)), grpc, context: h.effective ?? h.current };
        return 0;
      },
      proxy_get_status: (cp, mp, sp) => { h.w32(cp, 0); return h.copyOut('', mp, sp); },
      proxy_http_call: (up, un, hp, hn, bp, bn, tp, tn, timeout, tokp) => {
        const upstream = h.str(up, un);
        if (upstream === 'unknown') return 2;
        const token = h.nextToken++;
        h.httpCalls.push({ upstream, headers: parsePairs(h.read(hp, hn)), body: h.str(bp, bn), timeout, token, context: h.effective ?? h.current });
        h.w32(tokp, token); return 0;
      },
      proxy_get_shared_data: (kp, kn, pp, sp, cp) => {
        const e = h.shared.data.get(h.str(kp, kn)); if (!e) return 1;
        h.w32(cp, e.cas); return h.copyOut(e.value, pp, sp);
      },
      proxy_set_shared_data: (kp, kn, vp, vn, cas) => {
        const k = h.str(kp, kn); const e = h.shared.data.get(k);
        if (cas !== 0 && e && e.cas !== cas) return 8;
        h.shared.data.set(k, { value: h.read(vp, vn), cas: ++h.shared.cas }); return 0;
      },
      proxy_register_shared_queue: (np, nn, rp) => {
        const name = h.str(np, nn);
        let q = h.shared.queues.get(name);
        if (!q) { q = { id: h.shared.nextQueue++, items: [] }; h.shared.queues.set(name, q); }
        h.w32(rp, q.id); return 0;
      },
      proxy_resolve_shared_queue: (vp, vn, np, nn, rp) => {
        const q = h.shared.queues.get(h.str(np, nn)); if (!q) return 1;
        h.w32(rp, q.id); return 0;
      },
      proxy_enqueue_shared_queue: (id, vp, vn) => {
        const q = [...h.shared.queues.values()].find((x) => x.id === id); if (!q) return 1;
        q.items.push(h.read(vp, vn)); h.enqueued.push(id); return 0;
      },
      proxy_dequeue_shared_queue: (id, pp, sp) => {
        const q = [...h.shared.queues.values()].find((x) => x.id === id); if (!q) return 1;
        if (q.items.length === 0) return 7;
        return h.copyOut(q.items.shift(), pp, sp);
      },
      proxy_define_metric: (type, np, nn, rp) => {
        if (type > 2) return 2;
        const name = h.str(np, nn);
        let m = [...h.shared.metrics.values()].find((x) => x.name === name);
        if (!m) { m = { id: h.shared.nextMetric++, type, name, value: 0n }; h.shared.metrics.set(m.id, m); }
        h.w32(rp, m.id); return 0;
      },
      proxy_increment_metric: (id, delta) => {
        const m = h.shared.metrics.get(id); if (!m) return 1;
        if (m.type === 2) return 2; m.value += delta; return 0;
      },
      proxy_record_metric: (id, v) => {
        const m = h.shared.metrics.get(id); if (!m) return 1;
        if (m.type === 0) m.value += v; else m.value = v; return 0;
      },
      proxy_get_metric: (id, rp) => {
        const m = h.shared.metrics.get(id); if (!m) return 1;
        if (m.type === 2) return 2; h.w64(rp, m.value); return 0;
      },
      proxy_get_property: (pp, pn, rp, sp) => {
        const path = h.str(pp, pn).split('\0').join('.');
        if (!h.properties.has(path)) return 1;
        return h.copyOut(h.properties.get(path), rp, sp);
      },
      proxy_set_property: (pp, pn, vp, vn) => { h.properties.set(h.str(pp, pn).split('\0').join('.'), h.read(vp, vn)); return 0; },
      proxy_call_foreign_function: () => 1,
    };
    const env = {};
    for (const [name, fn] of Object.entries(impl)) env[name] = rec(name, fn);
    return env;
  }

  wasiImports() {
    const h = this;
    const w = {
      fd_write: (fd, iovs, n, ret) => {
        let total = 0; const dv = h.dv();
        if (fd !== 1 && fd !== 2) return 8;
        for (let i = 0; i < n; i++) {
          const p = dv.getUint32(iovs + 8 * i, true), l = dv.getUint32(iovs + 8 * i + 4, true);
          (fd === 1 ? h.stdout : h.stderr).push(h.str(p, l)); total += l;
        }
        h.w32(ret, total); return 0;
      },
      proc_exit: (code) => { throw new ProcExit(code); },
      clock_time_get: (id, prec, ret) => {
        if (id === 0) h.w64(ret, BigInt(Date.now()) * 1000000n);
        else if (id === 1) h.w64(ret, process.hrtime.bigint());
        else return 58;
        return 0;
      },
      random_get: (p, n) => { if (n > 65536) return 28; for (let i = 0; i < n; i++) h.u8()[p + i] = (Math.random() * 256) | 0; return 0; },
      environ_sizes_get: (cp, sp) => {
        h.w32(cp, h.env.length); h.w32(sp, h.env.reduce((a, [k, v]) => a + k.length + v.length + 2, 0)); return 0;
      },
      environ_get: (arr, buf) => {
        let off = buf;
        h.env.forEach(([k, v], i) => {
          const b = enc.encode(`${k}=${v}\0`); h.u8().set(b, off); h.w32(arr + 4 * i, off); off += b.length;
        });
        return 0;
      },
      args_sizes_get: (cp, sp) => { h.w32(cp, 0); h.w32(sp, 0); return 0; },
      args_get: () => 0,
    };
    const out = {};
    for (const [name, fn] of Object.entries(w)) out[name] = (...a) => { h.calls.push(`wasi.${name}`); return fn(...a); };
    return out;
  }

  bufferFor(t) {
    if (t === 6) return this.vmConfig;
    if (t === 7) return this.pluginConfig;
    return this.buffers[t];
  }

  /** Instantiates and runs _initialize, context_create(root), vm_start, configure. */
  start() {
    const env = this.envImports();
    const wasi = this.wasiImports();
    for (const imp of WebAssembly.Module.imports(this.module)) {
      const table = imp.module === 'env' ? env : wasi;
      if (!(imp.name in table)) throw new Error(`${this.path}: import ${imp.module}.${imp.name} not provided by the smoke host`);
    }
    this.instance = new WebAssembly.Instance(this.module, { env, wasi_snapshot_preview1: wasi });
    this.ex._initialize?.();
    this.rootId = this.nextId++;
    this.current = this.rootId;
    this.ex.proxy_on_context_create?.(this.rootId, 0);
    this.current = 'vm';
    this.vmStart = this.ex.proxy_on_vm_start ? this.ex.proxy_on_vm_start(this.rootId, this.vmConfig.length) : 1;
    this.current = this.rootId;
    this.configured = this.ex.proxy_on_configure ? this.ex.proxy_on_configure(this.rootId, this.pluginConfig.length) : 1;
    return this;
  }

  call(name, ...args) {
    this.effective = null;
    const fn = this.ex[name];
    return fn ? fn(...args) : undefined;
  }

  abi01() { return this.exportNames.includes('proxy_abi_version_0_1_0'); }

  newHttp() { const id = this.nextId++; this.current = id; this.call('proxy_on_context_create', id, this.rootId); return id; }
  requestHeaders(id, headers, eos = false) {
    this.maps[0] = [...headers]; this.current = id;
    return this.abi01() ? this.call('proxy_on_request_headers', id, headers.length)
      : this.call('proxy_on_request_headers', id, headers.length, eos ? 1 : 0);
  }
  requestBody(id, body, eos = true) {
    this.buffers[0] = bytes(body); this.current = id;
    return this.call('proxy_on_request_body', id, this.buffers[0].length, eos ? 1 : 0);
  }
  responseHeaders(id, headers, eos = false) {
    this.maps[2] = [...headers]; this.current = id;
    return this.abi01() ? this.call('proxy_on_response_headers', id, headers.length)
      : this.call('proxy_on_response_headers', id, headers.length, eos ? 1 : 0);
  }
  responseBody(id, body, eos = true, append = false) {
    this.buffers[1] = append ? concat(this.buffers[1], bytes(body)) : bytes(body); this.current = id;
    return this.call('proxy_on_response_body', id, this.buffers[1].length, eos ? 1 : 0);
  }
  finish(id) {
    this.current = id;
    const done = this.call('proxy_on_done', id);
    this.call('proxy_on_log', id);
    this.call('proxy_on_delete', id);
    return done;
  }
  httpCallResponse(token, headers, body) {
    this.maps[6] = [...headers]; this.buffers[4] = bytes(body); this.current = this.rootId;
    this.call('proxy_on_http_call_response', this.rootId, token, headers.length, this.buffers[4].length, 0);
  }
  tick() { this.current = this.rootId; this.call('proxy_on_tick', this.rootId); }
  queueReady(id) { this.current = this.rootId; this.call('proxy_on_queue_ready', this.rootId, id); }
}

function concat(a, b) { const o = new Uint8Array(a.length + b.length); o.set(a); o.set(b, a.length); return o; }
export const text = (u8) => dec.decode(u8);
