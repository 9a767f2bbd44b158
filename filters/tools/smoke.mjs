// Smoke check for the C filters: instantiates each built .wasm with the stub host in
// smokehost.mjs, runs the Proxy-Wasm start sequence and one or more HTTP contexts, and asserts on
// the host calls made. A sanity check run by filters/build.sh, not Gatehouse's test suite.
//
// Usage: node filters/tools/smoke.mjs [name-filter]
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { SmokeHost, ProcExit, text } from './smokehost.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const only = process.argv[2];
const checks = [];
const check = (name, fn) => checks.push({ name, fn });
const host = (rel, opts) => new SmokeHost(join(root, rel), opts).start();
const phasesOf = (h) => h.messages('phase:').map((m) => m.slice(6).split(' ')[0]);
const hdr = (h, type, name) => h.findHeader(type, name);
const REQ = [[':method', 'GET'], [':path', '/x'], [':authority', 'example.test'], ['user-agent', 'smoke']];

// ---------------------------------------------------------------- every filter
check('all filters: memory, _initialize, one ABI marker, allocator, root callbacks; no malloc export', () => {
  const files = ['test', 'examples'].flatMap((d) => readdirSync(join(root, d)).filter((f) => f.endsWith('.wasm')).map((f) => `${d}/${f}`));
  assert.ok(files.length >= 14, `found ${files.length} filters`);
  for (const f of files) {
    const h = new SmokeHost(join(root, f));
    const markers = h.exportNames.filter((n) => n.startsWith('proxy_abi_version_'));
    assert.equal(markers.length, 1, `${f}: ${markers}`);
    for (const e of ['memory', '_initialize', 'proxy_on_memory_allocate', 'proxy_on_context_create', 'proxy_on_vm_start', 'proxy_on_configure'])
      assert.ok(h.exportNames.includes(e), `${f} lacks export ${e}`);
    assert.ok(!h.exportNames.includes('malloc') && !h.exportNames.includes('_start'), f);
    const bad = h.imports.filter((i) => !i.startsWith('env.proxy_') && !i.startsWith('wasi_snapshot_preview1.'));
    assert.deepEqual(bad, [], f);
  }
});

// ---------------------------------------------------------------- benchmark filters
check('noop: continue everywhere, no imports', () => {
  const h = host('test/noop.wasm');
  assert.deepEqual(h.imports, []);
  const id = h.newHttp();
  assert.equal(h.requestHeaders(id, REQ), 0);
  assert.equal(h.requestBody(id, 'abc'), 0);
  assert.equal(h.responseHeaders(id, [[':status', '200']]), 0);
  assert.equal(h.responseBody(id, 'x'), 0);
  assert.equal(h.finish(id), 1);
});

check('bench-headers: two request headers, one response header', () => {
  const h = host('test/bench-headers.wasm');
  const id = h.newHttp();
  assert.equal(h.requestHeaders(id, REQ), 0);
  assert.equal(hdr(h, 0, 'x-bench-1'), '1');
  assert.equal(hdr(h, 0, 'x-bench-2'), '2');
  assert.equal(h.responseHeaders(id, [[':status', '200']]), 0);
  assert.equal(hdr(h, 2, 'x-bench'), '1');
});

check('bench-body: buffers until eos and upper-cases the body', () => {
  const h = host('test/bench-body.wasm');
  const id = h.newHttp();
  h.requestHeaders(id, REQ);
  assert.equal(h.requestBody(id, 'hello ', false), 1);
  assert.equal(h.requestBody(id, 'hello world 123', true), 0);
  assert.equal(text(h.buffers[0]), 'HELLO WORLD 123');
});

// ---------------------------------------------------------------- phases
check('phases: logs every callback in order', () => {
  const h = host('test/phases.wasm', { pluginConfig: '{}' });
  assert.equal(h.configured, 1);
  const id = h.newHttp();
  h.requestHeaders(id, REQ);
  h.requestBody(id, 'b');
  h.responseHeaders(id, [[':status', '200']]);
  h.responseBody(id, 'r');
  h.finish(id);
  assert.deepEqual(phasesOf(h), ['root_context_create', 'vm_start', 'configure', 'context_create',
    'request_headers', 'request_body', 'response_headers', 'response_body', 'done', 'log', 'delete']);
});

check('phases: invalid JSON config => on_configure returns false', () => {
  const h = host('test/phases.wasm', { pluginConfig: '{"request_headers":' });
  assert.equal(h.configured, 0);
  assert.ok(h.messages('config error:').length === 1);
});

check('phases: pause, local_response, set_header, get_property, tag', () => {
  const h = host('test/phases.wasm', {
    pluginConfig: JSON.stringify({
      tag: 'A',
      request_headers: [{ action: 'set_header', name: 'x-a', value: '1' }, { action: 'get_property', name: 'request.path' }, 'pause'],
      request_body: { action: 'local_response', status: 403, body: 'no', headers: { 'x-why': 'test' } },
    }),
    properties: { 'request.path': '/x', 'plugin_name': 'phases' },
  });
  const id = h.newHttp();
  assert.equal(h.requestHeaders(id, REQ), 1);
  assert.equal(hdr(h, 0, 'x-a'), '1');
  h.requestBody(id, 'b');
  assert.deepEqual(h.localResponse && [h.localResponse.status, h.localResponse.body, h.localResponse.headers], [403, 'no', [['x-why', 'test']]]);
  assert.equal(h.responseHeaders(id, [[':status', '403']]), 0);
  assert.equal(hdr(h, 2, 'x-property-request.path'), '/x');
  assert.ok(h.messages('phase:request_headers tag=A').length === 1);
  assert.ok(h.messages('property:request.path=/x').length === 1);
});

check('phases: http_call then respond, with effective context', () => {
  const h = host('test/phases.wasm', {
    pluginConfig: JSON.stringify({ request_headers: { action: 'http_call', upstream: 'auth', path: '/check', timeout_ms: 500, then: 'respond', headers: { 'x-k': 'v' } } }),
  });
  const id = h.newHttp();
  assert.equal(h.requestHeaders(id, REQ), 1);
  const call = h.httpCalls[0];
  assert.equal(call.upstream, 'auth');
  assert.equal(call.timeout, 500);
  assert.deepEqual(call.headers, [[':method', 'GET'], [':path', '/check'], [':authority', 'auth'], ['x-k', 'v']]);
  h.httpCallResponse(call.token, [[':status', '418']], 'teapot');
  assert.equal(h.effective, id);
  assert.deepEqual([h.localResponse.status, h.localResponse.body], [418, 'teapot']);
});

check('phases: http_call then continue adds x-http-call-status', () => {
  const h = host('test/phases.wasm', { pluginConfig: '{"request_headers":{"action":"http_call","upstream":"u"}}' });
  const id = h.newHttp();
  assert.equal(h.requestHeaders(id, REQ), 1);
  h.httpCallResponse(h.httpCalls[0].token, [[':status', '204']], '');
  assert.deepEqual(h.continued, [0]);
  h.responseHeaders(id, [[':status', '200']]);
  assert.equal(hdr(h, 2, 'x-http-call-status'), '204');
  const h2 = host('test/phases.wasm', { pluginConfig: '{"request_headers":{"action":"http_call","upstream":"unknown"}}' });
  const id2 = h2.newHttp();
  assert.equal(h2.requestHeaders(id2, REQ), 0);
  h2.responseHeaders(id2, [[':status', '200']]);
  assert.equal(hdr(h2, 2, 'x-http-call-dispatch-status'), '2');
});

check('phases: pause then resume from tick', () => {
  const h = host('test/phases.wasm', { pluginConfig: '{"configure":{"action":"tick","period_ms":25},"request_headers":"pause","tick":"resume"}' });
  assert.equal(h.tickPeriod, 25);
  const id = h.newHttp();
  assert.equal(h.requestHeaders(id, REQ), 1);
  h.tick();
  assert.equal(h.effective, id);
  assert.deepEqual(h.continued, [0]);
});

check('phases: trap, proc_exit, grow, fail, buffer', () => {
  const t = host('test/phases.wasm', { pluginConfig: '{"request_headers":"trap"}' });
  assert.throws(() => t.requestHeaders(t.newHttp(), REQ), WebAssembly.RuntimeError);
  const p = host('test/phases.wasm', { pluginConfig: '{"request_headers":{"action":"proc_exit","code":3}}' });
  assert.throws(() => p.requestHeaders(p.newHttp(), REQ), (e) => e instanceof ProcExit && e.code === 3);
  const g = host('test/phases.wasm', { pluginConfig: '{"request_headers":{"action":"grow","pages":3}}' });
  g.requestHeaders(g.newHttp(), REQ);
  assert.deepEqual(g.messages('grow:'), ['grow:pages=3 failed=false']);
  const f = host('test/phases.wasm', { pluginConfig: '{"configure":"fail"}' });
  assert.equal(f.configured, 0);
  const b = host('test/phases.wasm', { pluginConfig: '{"response_body":["buffer",{"action":"set_body","body":"new"}]}' });
  const id = b.newHttp();
  assert.equal(b.responseBody(id, 'old', false), 1);
  assert.equal(b.responseBody(id, 'old-full', true), 0);
  assert.equal(text(b.buffers[1]), 'new');
});

check('phases: loop spins until the engine stops it', async () => {
  const { Worker } = await import('node:worker_threads');
  const src = `
    const { parentPort, workerData } = require('node:worker_threads');
    import(workerData.url).then(({ SmokeHost }) => {
      const h = new SmokeHost(workerData.file, { pluginConfig: '{"request_headers":"loop"}' }).start();
      const id = h.newHttp();
      parentPort.postMessage('started');
      h.requestHeaders(id, []);
      parentPort.postMessage('returned');
    });`;
  const w = new Worker(src, { eval: true, workerData: { url: new URL('./smokehost.mjs', import.meta.url).href, file: join(root, 'test/phases.wasm') } });
  const seen = [];
  w.on('message', (m) => seen.push(m));
  await new Promise((r) => setTimeout(r, 300));
  await w.terminate();
  assert.deepEqual(seen, ['started']);
});

check('phases: return values are passed through as 32-bit words', () => {
  for (const [value, expected] of [[2, 2], [-1, -1], [4294967295, -1], [1e12, -1], [-1e12, -2147483648]]) {
    const h = host('test/phases.wasm', { pluginConfig: JSON.stringify({ request_headers: { action: 'return', value } }) });
    assert.equal(h.requestHeaders(h.newHttp(), REQ), expected, String(value));
  }
});

check('phases: vm_start actions from plugin config when no VM config', () => {
  const h = host('test/phases.wasm', { pluginConfig: '{"vm_start":"fail"}' });
  assert.equal(h.vmStart, 0);
});

// ---------------------------------------------------------------- shared
check('shared: CAS, increment, queue, metrics', () => {
  const h = host('test/shared.wasm', { pluginConfig: '{"queue":"q","drain_on_ready":true}' });
  assert.deepEqual(h.messages('queue:registered'), ['queue:registered name=q id=1 status=0']);
  assert.equal(h.messages('metric:defined').length, 3);
  const run = (headers) => {
    const id = h.newHttp();
    h.requestHeaders(id, [...REQ, ...headers]);
    h.responseHeaders(id, [[':status', '200']]);
    h.finish(id);
    return Object.fromEntries(h.maps[2]);
  };
  let r = run([['x-shared-get', 'k']]);
  assert.equal(r['x-shared-status'], '1');
  r = run([['x-shared-set', 'k=v1']]);
  assert.equal(r['x-shared-set-status'], '0');
  r = run([['x-shared-get', 'k']]);
  assert.deepEqual([r['x-shared-status'], r['x-shared-value']], ['0', 'v1']);
  const cas = r['x-shared-cas'];
  r = run([['x-shared-set', 'k=v2'], ['x-shared-cas', String(Number(cas) + 100)]]);
  assert.equal(r['x-shared-set-status'], '8');
  r = run([['x-shared-set', 'k=v2'], ['x-shared-cas', cas]]);
  assert.equal(r['x-shared-set-status'], '0');
  assert.equal(run([['x-shared-incr', 'n']])['x-shared-incr'], '1');
  assert.equal(run([['x-shared-incr', 'n']])['x-shared-incr'], '2');
  r = run([['x-queue-enqueue', 'item1']]);
  assert.equal(r['x-queue-enqueue-status'], '0');
  r = run([['x-queue-dequeue', '1']]);
  assert.deepEqual([r['x-queue-dequeue-status'], r['x-queue-value']], ['0', 'item1']);
  assert.equal(run([['x-queue-dequeue', '1']])['x-queue-dequeue-status'], '7');
  r = run([['x-queue-resolve', 'q']]);
  assert.deepEqual([r['x-queue-resolve-status'], r['x-queue-resolved-id']], ['0', '1']);
  assert.equal(run([['x-queue-resolve', 'nope']])['x-queue-resolve-status'], '1');
  run([['x-queue-enqueue', 'a']]);
  h.queueReady(1);
  assert.deepEqual(h.messages('queue_'), ['queue_ready:id=1', 'queue_item:a']);
  r = run([['x-metric-record', '42']]);
  assert.deepEqual([r['x-metric-record-status'], r['x-metric-gauge'], r['x-metric-requests']], ['0', '42', '14']);
});

// ---------------------------------------------------------------- wasi
check('wasi: fd_write, clocks, random, environ, args, proc_exit', () => {
  const h = host('test/wasi.wasm', { env: [['GREETING', 'hi'], ['Mode', 'test']] });
  assert.deepEqual(h.stdout, ['wasi: configure on stdout\n']);
  const id = h.newHttp();
  assert.equal(h.requestHeaders(id, REQ), 0);
  h.responseHeaders(id, [[':status', '200']]);
  const r = Object.fromEntries(h.maps[2]);
  assert.equal(r['x-wasi-stdout-errno'], '0');
  assert.equal(r['x-wasi-stderr-errno'], '0');
  assert.equal(r['x-wasi-badfd-errno'], '8');
  assert.deepEqual(h.stderr, ['wasi: hello from stderr\n']);
  assert.ok(Number(r['x-wasi-realtime-ns']) > 1.6e18);
  assert.ok(Number(r['x-wasi-monotonic-ns']) > 0);
  assert.match(r['x-wasi-random'], /^[0-9a-f]{32}$/);
  assert.equal(r['x-wasi-random-large-errno'], '28');
  assert.deepEqual([r['x-wasi-environ-count'], r['x-wasi-environ-size'], r['x-wasi-env-greeting'], r['x-wasi-env-mode']], ['2', '22', 'hi', 'test']);
  assert.equal(r['x-wasi-args-count'], '0');
  assert.throws(() => h.requestHeaders(h.newHttp(), [...REQ, ['x-wasi-exit', '0']]), (e) => e instanceof ProcExit && e.code === 0);
  assert.throws(() => host('test/wasi.wasm', { pluginConfig: '{"exit_on_configure":3}' }), (e) => e instanceof ProcExit && e.code === 3);
});

// ---------------------------------------------------------------- ABI versions, config-check
for (const [file, version, missing] of [['abi-0-1-0', '0.1.0', '0'], ['abi-0-2-0', '0.2.0', '1'], ['abi-0-2-1', '0.2.1', '1']]) {
  check(`${file}: marker, callback arity, missing-header status, config`, () => {
    const h = host(`test/${file}.wasm`, { pluginConfig: 'cfg-text' });
    assert.ok(h.exportNames.includes(`proxy_abi_version_${version.replaceAll('.', '_')}`));
    assert.equal(h.exportNames.filter((n) => n.startsWith('proxy_abi_version')).length, 1);
    const id = h.newHttp();
    h.requestHeaders(id, REQ);
    assert.equal(hdr(h, 0, 'x-abi-version'), version);
    h.responseHeaders(id, [[':status', '200']]);
    const r = Object.fromEntries(h.maps[2]);
    assert.deepEqual([r['x-abi-version'], r['x-abi-missing-status'], r['x-abi-config']], [version, missing, 'cfg-text']);
    assert.equal(r['x-abi-log-level'], version === '0.2.1' ? '2' : undefined);
    assert.equal(h.imports.includes('env.proxy_get_configuration'), version === '0.1.0');
  });
}

check('config-check: accepts {"name":..} and rejects the rest', () => {
  for (const bad of ['', 'nope', '[]', '{}', '{"name":""}', '{"name":1}', '{"name":"a","status":"x"}']) {
    const h = host('test/config-check.wasm', { pluginConfig: bad });
    assert.equal(h.configured, 0, `config ${JSON.stringify(bad)} must be rejected`);
    assert.equal(h.messages('config-check: rejected: ').length, 1);
  }
  const h = host('test/config-check.wasm', { pluginConfig: '{"name":"ok","status":200}' });
  assert.equal(h.configured, 1);
  assert.deepEqual(h.messages('config-check: accepted'), ['config-check: accepted name=ok']);
  const id = h.newHttp();
  h.responseHeaders(id, [[':status', '200']]);
  assert.equal(hdr(h, 2, 'x-config-check'), 'ok');
});

// ---------------------------------------------------------------- examples
const example = (name) => readFileSync(join(root, 'examples', `${name}.config.json`), 'utf8');

check('examples: meta.json files carry an object config_schema', () => {
  for (const name of ['add-headers', 'body-rewrite', 'require-header', 'request-counter']) {
    const meta = JSON.parse(readFileSync(join(root, 'examples', `${name}.meta.json`), 'utf8'));
    assert.equal(meta.config_schema.type, 'object', name);
    assert.equal(host(`examples/${name}.wasm`, { pluginConfig: example(name) }).configured, 1, name);
  }
});

check('add-headers: removes then sets request and response headers', () => {
  const h = host('examples/add-headers.wasm', { pluginConfig: example('add-headers') });
  const id = h.newHttp();
  h.requestHeaders(id, [...REQ, ['x-internal', '1'], ['x-gateway', 'old']]);
  assert.equal(hdr(h, 0, 'x-internal'), undefined);
  assert.equal(hdr(h, 0, 'x-gateway'), 'gatehouse');
  h.responseHeaders(id, [[':status', '200'], ['server', 'up']]);
  assert.deepEqual(h.maps[2], [[':status', '200'], ['x-frame-options', 'DENY']]);
  assert.equal(host('examples/add-headers.wasm', { pluginConfig: '{"request":{"add":{"a":1}}}' }).configured, 0);
});

check('body-rewrite: buffers, rewrites, drops content-length, honours content_type', () => {
  const h = host('examples/body-rewrite.wasm', { pluginConfig: example('body-rewrite') });
  const id = h.newHttp();
  h.responseHeaders(id, [[':status', '200'], ['content-type', 'text/plain'], ['content-length', '11']]);
  assert.equal(hdr(h, 2, 'content-length'), undefined);
  assert.equal(h.responseBody(id, 'hello', false), 1);
  assert.equal(h.responseBody(id, ' world', true, true), 0);
  assert.equal(text(h.buffers[1]), 'goodbye world\n-- rewritten by gatehouse\n');
  const id2 = h.newHttp();
  h.responseHeaders(id2, [[':status', '200'], ['content-type', 'application/json'], ['content-length', '2']]);
  assert.equal(hdr(h, 2, 'content-length'), '2');
  assert.equal(h.responseBody(id2, '{}', false), 0);
  assert.equal(host('examples/body-rewrite.wasm', { pluginConfig: '{"replace":"x"}' }).configured, 0);
});

check('require-header: local response when the header is missing', () => {
  const h = host('examples/require-header.wasm', { pluginConfig: example('require-header') });
  const ok = h.newHttp();
  assert.equal(h.requestHeaders(ok, [...REQ, ['X-Api-Key', 'k']]), 0);
  assert.equal(h.localResponse, null);
  const denied = h.newHttp();
  assert.equal(h.requestHeaders(denied, REQ), 1);
  assert.deepEqual([h.localResponse.status, h.localResponse.body, h.localResponse.headers],
    [401, 'missing x-api-key\n', [['www-authenticate', 'ApiKey']]]);
  const v = host('examples/require-header.wasm', { pluginConfig: '{"header":"x-k","value":"s","status":403}' });
  assert.equal(v.requestHeaders(v.newHttp(), [...REQ, ['x-k', 'wrong']]), 1);
  assert.equal(v.localResponse.status, 403);
  assert.equal(host('examples/require-header.wasm', { pluginConfig: '{}' }).configured, 0);
});

check('request-counter: shared CAS counter across VMs, header and metric', () => {
  const a = host('examples/request-counter.wasm', { pluginConfig: example('request-counter') });
  const b = host('examples/request-counter.wasm', { pluginConfig: example('request-counter'), shared: a.shared });
  const seen = [];
  for (const h of [a, b, a]) {
    const id = h.newHttp();
    h.requestHeaders(id, REQ);
    h.responseHeaders(id, [[':status', '200']]);
    seen.push(hdr(h, 2, 'x-request-count'));
    h.finish(id);
  }
  assert.deepEqual(seen, ['1', '2', '3']);
  const metric = [...a.shared.metrics.values()].find((m) => m.name === 'requests_total');
  assert.equal(metric.value, 3n);
});

// ---------------------------------------------------------------- run
let failed = 0;
for (const c of checks) {
  if (only && !c.name.includes(only)) continue;
  try {
    await c.fn();
    console.log(`  ok   ${c.name}`);
  } catch (e) {
    failed++;
    console.log(`  FAIL ${c.name}\n       ${String(e.stack ?? e).split('\n').slice(0, 6).join('\n       ')}`);
  }
}
if (failed) {
  console.error(`smoke: ${failed} check(s) failed`);
  process.exit(1);
}
console.log(`smoke: all ${checks.filter((c) => !only || c.name.includes(only)).length} checks passed`);
