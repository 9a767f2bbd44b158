// Smoke check of as_headers.wasm without the C# host: runs the proxy-wasm start sequence and a few
// HTTP contexts against the recording stub host, and asserts the documented behaviour (README.md).
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { StubHost, MapType } from "../rust/stub-host.mjs";

const wasm = fileURLToPath(new URL("./as_headers.wasm", import.meta.url));
const exportsOf = (h) => WebAssembly.Module.exports(h.module).map((e) => e.name);
const importsOf = (h) => WebAssembly.Module.imports(h.module).map((i) => `${i.module}.${i.name}`);

function started(config, rootId = "as_headers") {
  const host = new StubHost(wasm, { rootId });
  const r = host.start({ pluginConfig: config });
  return { host, r };
}

// ABI marker, allocator, no _initialize/_start (start section), only the documented imports.
{
  const { host, r } = started("hello-config");
  const ex = exportsOf(host);
  assert.ok(ex.includes("proxy_abi_version_0_2_0"));
  assert.ok(ex.includes("malloc"));
  assert.ok(!ex.includes("_start") && !ex.includes("_initialize"));
  const allowed = new Set(["env.proxy_log", "wasi_unstable.proc_exit", "env.proxy_get_buffer_bytes", "env.proxy_get_property",
    "env.proxy_set_effective_context", "env.proxy_get_header_map_value", "env.proxy_send_local_response",
    "env.proxy_remove_header_map_value", "env.proxy_add_header_map_value"]);
  for (const i of importsOf(host)) assert.ok(allowed.has(i), `unexpected import ${i}`);
  assert.equal(host.callsDuringInstantiate, 0, "start section makes no hostcalls");
  assert.equal(r.vmStart, 1);
  assert.equal(r.configure, 1);
  assert.ok(host.callsOf("proxy_get_property").some((c) => c.path === "plugin_root_id"), "SDK reads plugin_root_id");
  assert.match(host.logText(), /as_headers: on_configure \(12 bytes\): hello-config/);

  // Pass-through request: x-as-remove dropped, x-as-request added, response header from config.
  const s = host.http([[":method", "GET"], [":path", "/a?b=1"], [":authority", "x"], ["x-as-remove", "bye"]]);
  assert.equal(s.requestHeaders(), 0);
  assert.equal(s.header(MapType.REQUEST_HEADERS, "x-as-remove"), undefined);
  assert.equal(s.header(MapType.REQUEST_HEADERS, "x-as-request"), "GET /a?b=1");
  assert.equal(s.localResponse, null);
  assert.equal(s.responseHeaders([[":status", "200"]]), 0);
  assert.deepEqual(s.headerValues(MapType.RESPONSE_HEADERS, "x-as-config"), ["hello-config"]);
  assert.equal(s.finish(), 1);
  assert.match(host.logText(), /as_headers: request GET \/a\?b=1/);
  assert.match(host.logText(), new RegExp(`as_headers: on_log ${s.id}`));

  // Local response with a status from the header; default 403 otherwise.
  const l = host.http([[":method", "POST"], [":path", "/x"], ["x-as-local-response", "429"]]);
  assert.equal(l.requestHeaders(), 1);
  assert.equal(l.localResponse.status, 429);
  assert.equal(l.localResponse.body, "as_headers local response\n");
  assert.deepEqual(l.localResponse.headers, [["x-as-local", "yes"]]);
  assert.equal(l.localResponse.details, "as_headers_local");
  assert.equal(l.localResponse.grpc, -1);
  assert.equal(l.header(MapType.REQUEST_HEADERS, "x-as-request"), undefined);
  l.finish();
  const d = host.http([[":method", "GET"], [":path", "/"], ["x-as-local-response", "yes"]]);
  assert.equal(d.requestHeaders(), 1);
  assert.equal(d.localResponse.status, 403);
  d.finish();
  assert.equal(host.unknownImportCalls.length, 0);
}

// Empty configuration ⇒ "none"; empty root id accepted.
{
  const { host, r } = started("", "");
  assert.equal(r.configure, 1);
  const s = host.http([[":method", "GET"], [":path", "/"]]);
  s.requestHeaders();
  s.responseHeaders([[":status", "204"]]);
  assert.deepEqual(s.headerValues(MapType.RESPONSE_HEADERS, "x-as-config"), ["none"]);
  s.finish();
}

// "fail" ⇒ on_configure returns false.
{
  const { r, host } = started("fail");
  assert.equal(r.configure, 0);
  assert.ok(host.logs.some((l) => l.level === 4 && l.msg.includes("configuration 'fail' rejected")));
}

// Unknown root id ⇒ the SDK aborts via proc_exit(255) inside proxy_on_context_create.
{
  const host = new StubHost(wasm, { rootId: "something-else" });
  assert.throws(() => host.start({ pluginConfig: "x" }), /proc_exit\(255\)/);
  assert.ok(host.logs.some((l) => l.level === 5 && l.msg.includes("Missing root context factory")));
}

// as_my_root.wasm: registered under "my_root" only. The empty root id (the default) cannot start it;
// "my_root" starts it, and the filter reports plugin_root_id / plugin_vm_id in headers.
{
  const myRoot = fileURLToPath(new URL("./as_my_root.wasm", import.meta.url));
  const refused = new StubHost(myRoot, { rootId: "" });
  assert.throws(() => refused.start({ pluginConfig: "" }), /proc_exit\(255\)/);
  assert.ok(refused.logs.some((l) => l.level === 5 && l.msg.includes("Missing root context factory for root id: ")));

  const host = new StubHost(myRoot, { rootId: "my_root", properties: { plugin_vm_id: "vm-a" } });
  const r = host.start({ pluginConfig: "" });
  assert.equal(r.vmStart, 1);
  assert.equal(r.configure, 1);
  assert.match(host.logText(), /as_my_root: on_configure under root id my_root/);
  const s = host.http([[":method", "GET"], [":path", "/"]]);
  assert.equal(s.requestHeaders(), 0);
  assert.equal(s.header(MapType.REQUEST_HEADERS, "x-as-root-id"), "my_root");
  assert.equal(s.header(MapType.REQUEST_HEADERS, "x-as-vm-id"), "vm-a");
  assert.equal(s.responseHeaders([[":status", "200"]]), 0);
  assert.deepEqual(s.headerValues(MapType.RESPONSE_HEADERS, "x-as-root-id"), ["my_root"]);
  s.finish();
}

console.log("assemblyscript smoke: OK");
