/*
 * request-counter: counts requests in shared data and reports the count.
 *
 * Config: {"key": "request-counter", "header": "x-request-count", "metric": "requests_total"}
 * (all optional; these are the defaults). Each request atomically increments the decimal counter
 * stored under shared-data "key" (get + set with CAS, retried on CAS_MISMATCH), increments the
 * counter metric "metric", and returns the new count in the response header "header".
 * Every VM (and every plugin) using the same key shares the count. on_configure creates the key
 * ("0") if absent, so requests only ever update it with CAS (see pw_shared_increment).
 */
#include "../sdk/pw_filter.h"

static char *g_key, *g_header;
static uint32_t g_metric;
static pw_ctx_map g_counts; /* context id -> count (stored in the pointer) */

PW_NOOP_LIFECYCLE()

PW_EXPORT(proxy_on_configure) uint32_t on_configure(uint32_t root, uint32_t size) {
  (void)root;
  bool valid;
  json_value *cfg = pw_config_json(size, &valid);
  if (!valid || (cfg != NULL && cfg->type != JSON_OBJECT)) {
    json_free(cfg);
    pw_log(PW_LOG_ERROR, "request-counter: invalid configuration");
    return 0;
  }
  free(g_key), free(g_header);
  g_key = pw_strdup(json_get_string(cfg, "key", "request-counter"));
  g_header = pw_strdup(json_get_string(cfg, "header", "x-request-count"));
  if (!pw_shared_seed(g_key)) pw_log(PW_LOG_WARN, "request-counter: could not create the shared counter");
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
