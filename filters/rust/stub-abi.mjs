// Proxy-Wasm ABI constants and the map (pairs) encoding used by the Node.js stub host
// (stub-host.mjs); see /work/shared/docs/proxy-wasm-abi.md §1.4–§1.5.
const enc = new TextEncoder();
const dec = new TextDecoder();

export const Status = Object.freeze({ OK: 0, NOT_FOUND: 1, BAD_ARGUMENT: 2, INVALID_MEMORY_ACCESS: 6, EMPTY: 7, CAS_MISMATCH: 8, UNIMPLEMENTED: 12 });
export const MapType = Object.freeze({ REQUEST_HEADERS: 0, REQUEST_TRAILERS: 1, RESPONSE_HEADERS: 2, RESPONSE_TRAILERS: 3, HTTP_CALL_RESPONSE_HEADERS: 6, HTTP_CALL_RESPONSE_TRAILERS: 7 });
export const BufferType = Object.freeze({ REQUEST_BODY: 0, RESPONSE_BODY: 1, HTTP_CALL_RESPONSE_BODY: 4, VM_CONFIGURATION: 6, PLUGIN_CONFIGURATION: 7 });

export class ProcExit extends Error {
  constructor(code) { super(`proc_exit(${code})`); this.code = code; }
}

/** Serialize header pairs in the proxy-wasm map format (§1.4). */
export function serializePairs(pairs) {
  const parts = pairs.map(([k, v]) => [enc.encode(k), enc.encode(v)]);
  let size = 4;
  for (const [k, v] of parts) size += 8 + k.length + 1 + v.length + 1;
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, parts.length, true);
  let off = 4;
  for (const [k, v] of parts) { dv.setUint32(off, k.length, true); dv.setUint32(off + 4, v.length, true); off += 8; }
  for (const [k, v] of parts) { out.set(k, off); off += k.length + 1; out.set(v, off); off += v.length + 1; }
  return out;
}

/** Parse the proxy-wasm map format; accepts the empty encodings (size 0, one NUL byte). */
export function parsePairs(bytes) {
  if (bytes.length <= 1) return [];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = dv.getUint32(0, true);
  const sizes = [];
  let off = 4;
  for (let i = 0; i < n; i++) { sizes.push([dv.getUint32(off, true), dv.getUint32(off + 4, true)]); off += 8; }
  const out = [];
  for (const [kl, vl] of sizes) {
    const k = dec.decode(bytes.subarray(off, off + kl)); off += kl + 1;
    const v = dec.decode(bytes.subarray(off, off + vl)); off += vl + 1;
    out.push([k, v]);
  }
  if (off !== bytes.length) throw new Error(`pairs: ${bytes.length - off} trailing bytes`);
  return out;
}
