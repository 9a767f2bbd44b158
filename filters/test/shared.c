/*
 * shared: exercises shared data (get / set with CAS / CAS-loop increment), shared queues
 * (register / resolve / enqueue / dequeue / on_queue_ready) and metrics (counter, gauge,
 * histogram). Operations are selected per request by request headers; results come back as
 * response headers. See filters/test/README.md for the contract.
 */
#include "../sdk/pw_filter.h"

typedef struct {
  char queue_name[128];
  uint32_t queue_id;
  bool drain_on_ready;
  uint32_t counter_id, gauge_id, histogram_id;
} shared_root;

static shared_root g_root;
static pw_ctx_map g_pending; /* HTTP context id -> pw_pairs* of response headers to add */

static void log_status(const char *what, const char *name, uint32_t id, pw_status s) {
  pw_str m = {0};
  pw_str_add(pw_str_add(pw_str_add(&m, what), " name="), name);
  pw_str_add_u64(pw_str_add(&m, " id="), id);
  pw_str_add_u64(pw_str_add(&m, " status="), (uint64_t)s);
  pw_log_str(PW_LOG_INFO, &m);
  pw_str_free(&m);
}

static uint32_t define(pw_metric_type type, const char *prefix, const char *suffix) {
  pw_str name = {0};
  pw_str_add(pw_str_add(&name, prefix), suffix);
  uint32_t id = 0;
  pw_status s = pw_define_metric(type, pw_str_cstr(&name), &id);
  log_status("metric:defined", pw_str_cstr(&name), id, s);
  pw_str_free(&name);
  return id;
}

PW_NOOP_LIFECYCLE()

PW_EXPORT(proxy_on_configure) uint32_t on_configure(uint32_t root, uint32_t size) {
  (void)root;
  bool valid;
  json_value *cfg = pw_config_json(size, &valid);
  if (!valid) {
    pw_log(PW_LOG_ERROR, "shared: invalid configuration");
    return 0;
  }
  const char *queue = json_get_string(cfg, "queue", "shared-test");
  strncpy(g_root.queue_name, queue, sizeof g_root.queue_name - 1);
  g_root.drain_on_ready = json_get_bool(cfg, "drain_on_ready", false);
  const char *prefix = json_get_string(cfg, "metric_prefix", "shared_");
  pw_status s = proxy_register_shared_queue(queue, strlen(queue), &g_root.queue_id);
  log_status("queue:registered", queue, g_root.queue_id, s);
  g_root.counter_id = define(PW_METRIC_COUNTER, prefix, "requests_total");
  g_root.gauge_id = define(PW_METRIC_GAUGE, prefix, "last_value");
  g_root.histogram_id = define(PW_METRIC_HISTOGRAM, prefix, "values");
  json_free(cfg);
  return 1;
}

PW_EXPORT(proxy_on_queue_ready) void on_queue_ready(uint32_t root, uint32_t queue_id) {
  (void)root;
  pw_str m = {0};
  pw_str_add_u64(pw_str_add(&m, "queue_ready:id="), queue_id);
  pw_log_str(PW_LOG_INFO, &m);
  pw_str_free(&m);
  if (!g_root.drain_on_ready) return;
  for (;;) {
    char *v = NULL;
    size_t n = 0;
    if (proxy_dequeue_shared_queue(queue_id, &v, &n) != PW_OK) break;
    pw_str item = {0};
    pw_str_addn(pw_str_add(&item, "queue_item:"), v, n);
    pw_log_str(PW_LOG_INFO, &item);
    pw_str_free(&item);
    free(v);
  }
}

/* ---- per-request operations ---------------------------------------------------------------- */
static void out_n(pw_pairs *out, const char *name, const char *v, size_t n) {
  pw_pairs_add_copy(out, name, strlen(name), v, n);
}
static void out_u64(pw_pairs *out, const char *name, uint64_t v) {
  pw_str s = {0};
  pw_str_add_u64(&s, v);
  out_n(out, name, s.data, s.len);
  pw_str_free(&s);
}

static bool req_header(const char *name, pw_bytes *v) {
  if (pw_get_header(PW_MAP_HTTP_REQUEST_HEADERS, name, v) == PW_OK && v->data != NULL) return true;
  pw_bytes_free(v);
  return false;
}

static void op_shared(pw_pairs *out) {
  pw_bytes v;
  if (req_header("x-shared-get", &v)) {
    char *key = pw_bytes_cstr(&v);
    pw_bytes value;
    uint32_t cas = 0;
    pw_status s = pw_get_shared(key, &value, &cas);
    out_u64(out, "x-shared-status", (uint64_t)s);
    if (s == PW_OK) {
      out_n(out, "x-shared-value", value.data, value.len);
      out_u64(out, "x-shared-cas", cas);
    }
    pw_bytes_free(&value);
    free(key);
  }
  pw_bytes_free(&v);
  if (req_header("x-shared-set", &v)) {
    char *kv = pw_bytes_cstr(&v);
    char *eq = strchr(kv, '=');
    const char *value = "";
    if (eq) {
      *eq = 0;
      value = eq + 1;
    }
    uint64_t cas = 0;
    pw_bytes c;
    if (req_header("x-shared-cas", &c) && !pw_parse_u64(c.data, c.len, &cas)) cas = 0;
    pw_bytes_free(&c);
    out_u64(out, "x-shared-set-status", (uint64_t)pw_set_shared(kv, value, strlen(value), (uint32_t)cas));
    free(kv);
  }
  pw_bytes_free(&v);
  if (req_header("x-shared-incr", &v)) {
    char *key = pw_bytes_cstr(&v);
    out_u64(out, "x-shared-incr", pw_shared_increment(key, 1));
    free(key);
  }
  pw_bytes_free(&v);
}

static void op_queue(pw_pairs *out) {
  pw_bytes v;
  uint32_t qid = g_root.queue_id;
  if (req_header("x-queue-id", &v)) {
    uint64_t id;
    if (pw_parse_u64(v.data, v.len, &id)) qid = (uint32_t)id;
  }
  pw_bytes_free(&v);
  if (req_header("x-queue-resolve", &v)) {
    pw_bytes vm;
    req_header("x-queue-vm-id", &vm);
    uint32_t id = 0;
    pw_status s = proxy_resolve_shared_queue(vm.data, vm.len, v.data, v.len, &id);
    out_u64(out, "x-queue-resolve-status", (uint64_t)s);
    if (s == PW_OK) out_u64(out, "x-queue-resolved-id", id);
    pw_bytes_free(&vm);
  }
  pw_bytes_free(&v);
  if (req_header("x-queue-enqueue", &v))
    out_u64(out, "x-queue-enqueue-status", (uint64_t)proxy_enqueue_shared_queue(qid, v.data, v.len));
  pw_bytes_free(&v);
  if (req_header("x-queue-dequeue", &v)) {
    char *item = NULL;
    size_t n = 0;
    pw_status s = proxy_dequeue_shared_queue(qid, &item, &n);
    out_u64(out, "x-queue-dequeue-status", (uint64_t)s);
    if (s == PW_OK) out_n(out, "x-queue-value", item, n);
    free(item);
  }
  pw_bytes_free(&v);
}

static void op_metrics(pw_pairs *out) {
  pw_bytes v;
  out_u64(out, "x-metric-increment-status", (uint64_t)proxy_increment_metric(g_root.counter_id, 1));
  if (req_header("x-metric-record", &v)) {
    uint64_t value = 0;
    pw_parse_u64(v.data, v.len, &value);
    out_u64(out, "x-metric-record-status", (uint64_t)proxy_record_metric(g_root.gauge_id, value));
    proxy_record_metric(g_root.histogram_id, value);
  }
  pw_bytes_free(&v);
  uint64_t value = 0;
  if (proxy_get_metric(g_root.counter_id, &value) == PW_OK) out_u64(out, "x-metric-requests", value);
  if (proxy_get_metric(g_root.gauge_id, &value) == PW_OK) out_u64(out, "x-metric-gauge", value);
}

PW_EXPORT(proxy_on_request_headers) uint32_t on_request_headers(uint32_t ctx, uint32_t n, uint32_t eos) {
  (void)n;
  (void)eos;
  pw_pairs *out = (pw_pairs *)calloc(1, sizeof(pw_pairs));
  if (out == NULL) __builtin_trap();
  op_shared(out);
  op_queue(out);
  op_metrics(out);
  pw_pairs *old = (pw_pairs *)pw_ctx_take(&g_pending, ctx);
  if (old) {
    pw_pairs_free_owned(old);
    free(old);
  }
  pw_ctx_put(&g_pending, ctx, out);
  return PW_CONTINUE;
}

PW_EXPORT(proxy_on_response_headers) uint32_t on_response_headers(uint32_t ctx, uint32_t n, uint32_t eos) {
  (void)n;
  (void)eos;
  pw_pairs *out = (pw_pairs *)pw_ctx_take(&g_pending, ctx);
  if (out == NULL) return PW_CONTINUE;
  for (size_t i = 0; i < out->count; i++)
    proxy_replace_header_map_value(PW_MAP_HTTP_RESPONSE_HEADERS, out->items[i].key, out->items[i].key_len,
                                   out->items[i].value, out->items[i].value_len);
  pw_pairs_free_owned(out);
  free(out);
  return PW_CONTINUE;
}

PW_EXPORT(proxy_on_delete) void on_delete(uint32_t ctx) {
  pw_pairs *out = (pw_pairs *)pw_ctx_take(&g_pending, ctx);
  if (out) {
    pw_pairs_free_owned(out);
    free(out);
  }
}
