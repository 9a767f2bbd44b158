/*
 * request-counter: counts requests in shared data and reports the count.
 *
 * Config: {"key": "request-counter", "header": "x-request-count", "metric": "requests_total"}
 * (all optional; these are the defaults). Each request atomically increments the decimal counter
 * stored under shared-data "key" (get + set with CAS, retried on CAS_MISMATCH), increments the
 * counter metric "metric", and returns the new count in the response header "header".
 * Every VM (and every plugin) using the same key shares the count.
 */
#include "../sdk/json.h"
#include "../sdk/proxy_wasm.h"

static char *g_key, *g_header;
static uint32_t g_metric;
static pw_ctx_map g_counts; /* context id -> count (stored in the pointer) */

static char *dup_cstr(const char *s) {
  size_t n = strlen(s);
  char *d = (char *)malloc(n + 1);
  if (d == NULL) __builtin_trap();
  memcpy(d, s, n + 1);
  return d;
}

PW_EXPORT(proxy_on_context_create) void on_context_create(uint32_t ctx, uint32_t parent) {
  (void)ctx;
  (void)parent;
}

PW_EXPORT(proxy_on_vm_start) uint32_t on_vm_start(uint32_t root, uint32_t size) {
  (void)root;
  (void)size;
  return 1;
}

PW_EXPORT(proxy_on_configure) uint32_t on_configure(uint32_t root, uint32_t size) {
  (void)root;
  pw_bytes b;
  pw_get_plugin_config(size, &b);
  const char *err = NULL;
  json_value *cfg = b.len ? json_parse(b.data, b.len, &err) : NULL;
  pw_bytes_free(&b);
  if (err != NULL || (cfg != NULL && cfg->type != JSON_OBJECT)) {
    json_free(cfg);
    pw_log(PW_LOG_ERROR, "request-counter: invalid configuration");
    return 0;
  }
  free(g_key), free(g_header);
  g_key = dup_cstr(json_get_string(cfg, "key", "request-counter"));
  g_header = dup_cstr(json_get_string(cfg, "header", "x-request-count"));
  pw_status s = pw_define_metric(PW_METRIC_COUNTER, json_get_string(cfg, "metric", "requests_total"), &g_metric);
  json_free(cfg);
  if (s != PW_OK) pw_log(PW_LOG_WARN, "request-counter: could not define the metric");
  return 1;
}

PW_EXPORT(proxy_on_request_headers) uint32_t on_request_headers(uint32_t ctx, uint32_t n, uint32_t eos) {
  (void)n;
  (void)eos;
  uint64_t count = pw_shared_increment(g_key, 1);
  proxy_increment_metric(g_metric, 1);
  if (count > 0) pw_ctx_put(&g_counts, ctx, (void *)(uintptr_t)count);
  return PW_CONTINUE;
}

PW_EXPORT(proxy_on_response_headers) uint32_t on_response_headers(uint32_t ctx, uint32_t n, uint32_t eos) {
  (void)n;
  (void)eos;
  uintptr_t count = (uintptr_t)pw_ctx_take(&g_counts, ctx);
  if (count == 0) return PW_CONTINUE;
  pw_str v = {0};
  pw_str_add_u64(&v, count);
  pw_set_header_n(PW_MAP_HTTP_RESPONSE_HEADERS, g_header, v.data, v.len);
  pw_str_free(&v);
  return PW_CONTINUE;
}

PW_EXPORT(proxy_on_delete) void on_delete(uint32_t ctx) { pw_ctx_take(&g_counts, ctx); }
