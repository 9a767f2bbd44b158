// Smoke check of the Kong-compatible fixtures tests.wasm and response_transformer.wasm against the
// recording stub host; asserts the contract documented in filters/rust/README.md.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { StubHost, MapType } from "../stub-host.mjs";

const here = (f) => fileURLToPath(new URL(f, import.meta.url));
const REQ = MapType.REQUEST_HEADERS, RESP = MapType.RESPONSE_HEADERS;
const base = [[":method", "GET"], [":path", "/single/status/200"], [":authority", "gw"]];

// ---------------------------------------------------------------- tests.wasm
{
  const config = "tick_every=250 name=first add_resp_header=X-Wasm-Filter-Plugin=yes";
  const host = new StubHost(here("./tests.wasm"), { properties: { "kong.route_id": "route-1", "kong.client.protocol": "http" } });
  assert.ok(WebAssembly.Module.exports(host.module).some((e) => e.name === "proxy_abi_version_0_2_1"));
  assert.deepEqual(host.start({ vmConfig: "vm", pluginConfig: config }), { vmStart: 1, configure: 1 });
  assert.equal(host.tickPeriod, 250);
  assert.match(host.logText(), /\[proxy-wasm root\] on_vm_start \(conf_size: 2\)/);
  assert.match(host.logText(), new RegExp(`\\[proxy-wasm root\\] on_configure \\(conf_size: ${config.length}\\)`));
  assert.match(host.logText(), /starting on_tick every 250ms/);
  host.tick();
  assert.match(host.logText(), /\[proxy-wasm root\] on_tick/);

  // No control headers: pass-through; config add_resp_header applies in on_response_headers.
  let s = host.http([...base, ["accept", "*/*"]]);
  assert.equal(s.requestHeaders(false), 0);
  assert.deepEqual(s.maps[REQ], [...base, ["accept", "*/*"]]);
  assert.equal(s.requestBody("abc", true), 0);
  assert.equal(s.responseHeaders([[":status", "200"]]), 0);
  assert.equal(s.header(RESP, "X-Wasm-Filter-Plugin"), "yes");
  assert.equal(s.responseBody("ok", true), 0);
  assert.equal(s.finish(), 1);
  assert.match(host.logText(), /testing in "RequestHeaders"/);
  assert.match(host.logText(), /\[proxy-wasm http\] on_request_body \(3 bytes, eof: true\)/);
  assert.match(host.logText(), /\[proxy-wasm http\] on_log/);

  // Add request header / response header from request_headers; control headers removed.
  s = host.http([...base, ["X-PW-Add-Header", "Via=proxy-wasm"], ["X-PW-Add-Resp-Header", "X-Via=proxy-wasm"]]);
  assert.equal(s.requestHeaders(), 0);
  assert.equal(s.header(REQ, "Via"), "proxy-wasm");
  assert.equal(s.header(REQ, "X-PW-Add-Header"), undefined);
  assert.equal(s.header(REQ, "X-PW-Add-Resp-Header"), undefined);
  s.responseHeaders([[":status", "200"]]);
  assert.equal(s.header(RESP, "x-via"), "proxy-wasm");
  s.finish();

  // Phase selection: response_headers.
  host.logs.length = 0;
  s = host.http([...base, ["X-PW-Phase", "response_headers"], ["X-PW-Add-Resp-Header", "X-Via=late"]]);
  s.requestHeaders();
  assert.equal(s.header(REQ, "X-PW-Phase"), "response_headers", "untouched before its phase");
  s.responseHeaders([[":status", "200"]]);
  assert.equal(s.header(RESP, "x-via"), "late");
  assert.equal(s.header(REQ, "X-PW-Phase"), undefined);
  assert.match(host.logText(), /testing in "ResponseHeaders"/);
  s.finish();

  // log phase.
  s = host.http([...base, ["X-PW-Phase", "log"]]);
  s.requestHeaders(); s.responseHeaders([[":status", "200"]]); s.finish();
  assert.match(host.logText(), /testing in "Log"/);

  // local_response / dump_config.
  s = host.http([...base, ["X-PW-Test", "local_response"], ["X-PW-Input", "Hello from proxy-wasm"]]);
  assert.equal(s.requestHeaders(), 0);
  assert.equal(s.localResponse.status, 200);
  assert.equal(s.localResponse.body, "Hello from proxy-wasm");
  s.finish();
  s = host.http([...base, ["X-PW-Test", "dump_config"]]);
  s.requestHeaders();
  assert.equal(s.localResponse.body, config);
  s.finish();

  // get_kong_property: found ⇒ 200 + value; missing ⇒ 404.
  s = host.http([...base, ["X-PW-Test", "get_kong_property"], ["X-PW-Input", "route_id"], ["X-PW-Dispatch-Echo", "on"]]);
  s.requestHeaders();
  assert.deepEqual([s.localResponse.status, s.localResponse.body], [200, "route-1"]);
  assert.ok(host.callsOf("proxy_get_property").some((c) => c.path === "kong.route_id"));
  s.finish();
  s = host.http([...base, ["X-PW-Test", "get_kong_property"], ["X-PW-Input", "nope.nothing"]]);
  s.requestHeaders();
  assert.deepEqual([s.localResponse.status, s.localResponse.body], [404, ""]);
  s.finish();

  // set_kong_property: set, then clear (null value).
  s = host.http([...base, ["X-PW-Test", "set_kong_property"], ["X-PW-Input", "ctx.shared.foo=bar"]]);
  assert.equal(s.requestHeaders(), 0);
  assert.equal(s.properties.get("kong.ctx.shared.foo"), "bar");
  assert.equal(s.localResponse, null);
  s.finish();
  s = host.http([...base, ["X-PW-Test", "set_kong_property"], ["X-PW-Input", "ctx.shared.foo"]]);
  s.requestHeaders();
  assert.deepEqual(host.callsOf("proxy_set_property").at(-1), { fn: "proxy_set_property", ctx: s.id, path: "kong.ctx.shared.foo", value: null });
  s.finish();

  // echo_http_dispatch with echo on: pause, call, response ⇒ local response with trimmed body, continue.
  s = host.http([...base, ["X-PW-Test", "echo_http_dispatch"], ["X-PW-Dispatch-Echo", "on"],
    ["X-PW-Input", "path=/headers host=127.0.0.1:9999 method=POST headers=a:b|c:d body=hi timeout=2s"]]);
  assert.equal(s.requestHeaders(), 1);
  const call = host.httpCalls.at(-1);
  assert.equal(call.upstream, "127.0.0.1:9999");
  assert.deepEqual(call.headers, [[":method", "POST"], [":path", "/headers"], [":authority", "127.0.0.1:9999"], ["a", "b"], ["c", "d"]]);
  assert.equal(call.body, "hi");
  assert.equal(call.timeout, 2000);
  host.completeHttpCall(call.token, { headers: [[":status", "200"]], body: '  {"url":"/headers"}\n' });
  assert.deepEqual(host.callsOf("proxy_set_effective_context").at(-1).id, s.id);
  assert.deepEqual([s.localResponse.status, s.localResponse.body], [200, '{"url":"/headers"}']);
  assert.deepEqual(s.continued, [0]);
  assert.match(host.logText(), /on_http_call_response \(token_id: \d+, headers: 1, body_bytes: 21\)/);
  s.finish();

  // Without echo: defaults, no local response, request resumed; a failed call (0 headers) also resumes.
  s = host.http([...base, ["X-PW-Test", "echo_http_dispatch"]]);
  assert.equal(s.requestHeaders(), 1);
  const c2 = host.httpCalls.at(-1);
  assert.deepEqual(c2.headers, [[":method", "GET"], [":path", "/"], [":authority", "127.0.0.1:15555"]]);
  assert.equal(c2.timeout, 0);
  host.completeHttpCall(c2.token, { headers: [[":status", "200"]], body: "x" });
  assert.equal(s.localResponse, null);
  assert.deepEqual(s.continued, [0]);
  s.finish();
  s = host.http([...base, ["X-PW-Test", "echo_http_dispatch"], ["X-PW-Dispatch-Echo", "on"]]);
  s.requestHeaders();
  host.completeHttpCall(host.httpCalls.at(-1).token);
  assert.equal(s.localResponse, null);
  assert.deepEqual(s.continued, [0]);
  s.finish();

  // update_metrics.
  s = host.http([...base, ["X-PW-Test", "update_metrics"], ["X-PW-Input", "counter.reqs=2 gauge.temp=7 histogram.lat=3"]]);
  s.requestHeaders();
  assert.deepEqual(host.metrics.map((m) => [m.type, m.name, Number(m.value)]), [[0, "reqs", 2], [1, "temp", 7], [2, "lat", 3]]);
  s.finish();
  assert.equal(host.unknownImportCalls.length, 0);
  assert.equal(host.stdio[2], "");

  // trap: panic message on stderr, then a wasm trap.
  s = host.http([...base, ["X-PW-Test", "trap"]]);
  assert.throws(() => s.requestHeaders(), WebAssembly.RuntimeError);
  assert.match(host.stdio[2], /panicked at 'trap msg'/);
}
{
  const host = new StubHost(here("./tests.wasm"));
  assert.equal(host.start({ pluginConfig: "" }).configure, 1);
  assert.equal(host.tickPeriod, 0);
  const s = host.http([...base, ["X-PW-Phase", "bogus"]]);
  assert.throws(() => s.requestHeaders(), WebAssembly.RuntimeError);
  assert.match(host.stdio[2], /unknown phase: "bogus"/);
}

// ---------------------------------------------------------------- response_transformer.wasm
{
  const cfg = JSON.stringify({
    remove: { headers: ["server"] },
    rename: { headers: ["x-a:x-b", "x-missing:x-gone"] },
    replace: { headers: ["x-r:new", "x-absent:nope"] },
    add: { headers: ["x-add:1", "x-exists:no"] },
    append: { headers: ["X-Proxy-Wasm:service", "X-Proxy-Wasm:route"] },
    ignored_key: true,
  });
  const host = new StubHost(here("./response_transformer.wasm"));
  assert.deepEqual(host.start({ pluginConfig: cfg }), { vmStart: 1, configure: 1 });
  const s = host.http(base);
  assert.equal(s.requestHeaders(), 0);
  assert.deepEqual(s.maps[REQ], base);
  assert.equal(s.responseHeaders([[":status", "200"], ["Server", "up"], ["x-a", "A"], ["x-gone", "G"], ["x-r", "old"], ["x-exists", "yes"]]), 0);
  assert.equal(s.header(RESP, "server"), undefined);
  assert.equal(s.header(RESP, "x-a"), undefined);
  assert.equal(s.header(RESP, "x-b"), "A");
  assert.equal(s.header(RESP, "x-gone"), undefined, "renaming an absent header removes the target");
  assert.equal(s.header(RESP, "x-r"), "new");
  assert.equal(s.header(RESP, "x-absent"), undefined);
  assert.equal(s.header(RESP, "x-add"), "1");
  assert.equal(s.header(RESP, "x-exists"), "yes");
  assert.deepEqual(s.headerValues(RESP, "x-proxy-wasm"), ["service", "route"]);
  s.finish();
  assert.match(host.logText(), /\[response-transformer\] appending header X-Proxy-Wasm => service/);
}
{
  const host = new StubHost(here("./response_transformer.wasm"));
  assert.equal(host.start({ pluginConfig: "{}" }).configure, 1);
}
for (const bad of ["", "oops!", "[]", '{ "add": { "headers": 1234 } }', '{"add":{}}', '{"add":{"headers":["novalue"]}}', '{"append":{"headers":["a:"]}}', '{"remove":{"headers":[1]}}', '{"add":null}']) {
  const host = new StubHost(here("./response_transformer.wasm"));
  assert.equal(host.start({ pluginConfig: bad }).configure, 0, bad);
  assert.ok(host.logs.some((l) => l.level === 4 && l.msg.startsWith("failed parsing filter config: ")), bad);
}

console.log("kong-tests smoke: OK");
