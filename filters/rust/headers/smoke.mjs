// Smoke check of headers/rust_headers.wasm against the recording stub host (see README.md).
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { StubHost, MapType } from "../stub-host.mjs";

const wasm = fileURLToPath(new URL("./rust_headers.wasm", import.meta.url));
const REQ = MapType.REQUEST_HEADERS, RESP = MapType.RESPONSE_HEADERS;

const config = JSON.stringify({
  request: { remove: ["x-drop"], rename: { "x-old": "x-new" }, set: { "x-set": "forced" }, add: { "x-added": "1" } },
  response: { remove: ["server"], set: { "x-resp-set": "s" }, add: { "x-resp-add": "a" } },
  local_response: { path: "/rust-local", status: 202, body: "local body", headers: { "x-local": "yes" } },
  echo_path_header: "x-echo-path",
});

{
  const host = new StubHost(wasm);
  const exps = WebAssembly.Module.exports(host.module).map((e) => e.name);
  assert.ok(exps.includes("proxy_abi_version_0_2_1") && exps.includes("proxy_on_memory_allocate"));
  assert.ok(!exps.includes("_initialize") && !exps.includes("_start"));
  const r = host.start({ pluginConfig: config });
  assert.deepEqual(r, { vmStart: 1, configure: 1 });
  assert.match(host.logText(), new RegExp(`rust_headers: configured \\(${config.length} bytes\\)`));

  const s = host.http([[":method", "GET"], [":path", "/p?q=1"], ["x-drop", "d"], ["x-old", "o"], ["x-set", "a"], ["x-set", "b"]]);
  assert.equal(s.requestHeaders(), 0);
  assert.equal(s.header(REQ, "x-drop"), undefined);
  assert.equal(s.header(REQ, "x-old"), undefined);
  assert.equal(s.header(REQ, "x-new"), "o");
  assert.deepEqual(s.headerValues(REQ, "x-set"), ["forced"]);
  assert.equal(s.header(REQ, "x-added"), "1");
  assert.equal(s.responseHeaders([[":status", "200"], ["server", "up"], ["x-resp-set", "old"]]), 0);
  assert.equal(s.header(RESP, "server"), undefined);
  assert.deepEqual(s.headerValues(RESP, "x-resp-set"), ["s"]);
  assert.equal(s.header(RESP, "x-resp-add"), "a");
  assert.equal(s.header(RESP, "x-echo-path"), "/p?q=1");
  assert.equal(s.finish(), 1);

  const l = host.http([[":method", "GET"], [":path", "/rust-local?x=1"], ["x-drop", "d"]]);
  assert.equal(l.requestHeaders(), 1);
  assert.deepEqual(l.localResponse, { status: 202, details: "rust_headers_local", body: "local body", headers: [["x-local", "yes"]], grpc: -1 });
  assert.equal(l.header(REQ, "x-drop"), "d", "no request edits on local response");
  l.finish();
  assert.equal(host.unknownImportCalls.length, 0);
  assert.equal(host.stdio[2], "");
}

// Body rewriting: PAUSE until end of stream (host accumulates), then prepend/append once; content-length dropped.
{
  const host = new StubHost(wasm);
  assert.equal(host.start({ pluginConfig: JSON.stringify({ request_body: { prepend: "[" , append: "]" }, response_body: { append: "\n-- rust" } }) }).configure, 1);
  const dec = new TextDecoder();
  const s = host.http([[":method", "POST"], [":path", "/b"], ["content-length", "5"]]);
  assert.equal(s.requestHeaders(false), 0);
  assert.equal(s.header(REQ, "content-length"), undefined);
  assert.equal(s.requestBody("he", false), 1);
  assert.equal(s.requestBody("hello", true), 0);
  assert.equal(dec.decode(s.buffers[0]), "[hello]");
  assert.equal(s.responseHeaders([[":status", "200"], ["Content-Length", "2"]]), 0);
  assert.equal(s.header(RESP, "content-length"), undefined);
  assert.equal(s.responseBody("ok", false), 1);
  assert.equal(s.responseBody("ok!", true), 0);
  assert.equal(dec.decode(s.buffers[1]), "ok!\n-- rust");
  assert.deepEqual(host.callsOf("proxy_set_buffer_bytes").map((c) => [c.type, c.start, c.size]), [[0, 0, 5], [1, 0, 3]]);
  s.finish();
  // Without body configuration bodies pass untouched and no content-length is removed.
  const h2 = new StubHost(wasm);
  h2.start({ pluginConfig: "{}" });
  const t = h2.http([[":method", "POST"], [":path", "/b"], ["content-length", "2"]]);
  t.requestHeaders(false);
  assert.equal(t.header(REQ, "content-length"), "2");
  assert.equal(t.requestBody("hi", false), 0);
  assert.equal(t.requestBody("hi", true), 0);
  assert.equal(h2.callsOf("proxy_set_buffer_bytes").length, 0);
  t.finish();
}

// Empty configuration: valid, pass-through.
{
  const host = new StubHost(wasm);
  assert.equal(host.start({ pluginConfig: "" }).configure, 1);
  const s = host.http([[":method", "GET"], [":path", "/"], ["a", "b"]]);
  assert.equal(s.requestHeaders(), 0);
  assert.deepEqual(s.maps[REQ], [[":method", "GET"], [":path", "/"], ["a", "b"]]);
  s.responseHeaders([[":status", "200"]]);
  assert.deepEqual(s.maps[RESP], [[":status", "200"]]);
  s.finish();
}

// Invalid configurations are rejected by on_configure with an error log.
for (const [bad, why] of [["{", "expected string key"], ["[]", "must be a JSON object"], ['{"request":{"add":{"a":1}}}', "request.add.a must be a string"],
  ['{"local_response":{"path":"/x","status":42}}', "status must be an integer"], ['{"nope":1}', "unknown key nope"], ['{"response_body":{"append":1}}', "response_body.append must be a string"],
  ['{"request_body":{"replace":"x"}}', "unknown key request_body.replace"]]) {
  const host = new StubHost(wasm);
  assert.equal(host.start({ pluginConfig: bad }).configure, 0, bad);
  assert.ok(host.logs.some((l) => l.level === 4 && l.msg.includes("rust_headers: invalid configuration") && l.msg.includes(why)), `${bad}: ${host.logText()}`);
}
console.log("rust_headers smoke: OK");
