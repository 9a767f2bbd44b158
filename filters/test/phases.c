/*
 * phases: behaviour-by-configuration test filter (ABI 0.2.1). See filters/test/README.md for the
 * exact contract; this file is the implementation of that document.
 *
 * Every callback logs "phase:<name>" at info, then runs the actions configured for that phase.
 */
#include <wasi/api.h>

#include "../sdk/json.h"
#include "../sdk/proxy_wasm.h"

/* ---- phases ---------------------------------------------------------------------------------- */
typedef enum {
  PH_VM_START,
  PH_CONFIGURE,
  PH_TICK,
  PH_QUEUE_READY,
  PH_FOREIGN_FUNCTION,
  PH_HTTP_CALL_RESPONSE,
  PH_REQUEST_HEADERS,
  PH_REQUEST_BODY,
  PH_REQUEST_TRAILERS,
  PH_RESPONSE_HEADERS,
  PH_RESPONSE_BODY,
  PH_RESPONSE_TRAILERS,
  PH_DONE,
  PH_LOG,
} phase_id;

static const char *const PHASE_NAMES[] = {
    "vm_start",        "configure",         "tick",          "queue_ready",
    "foreign_function", "http_call_response", "request_headers", "request_body",
    "request_trailers", "response_headers",  "response_body", "response_trailers",
    "done",             "log",
};

static bool phase_is_bool(phase_id p) { return p == PH_VM_START || p == PH_CONFIGURE || p == PH_DONE; }
static bool phase_is_request(phase_id p) {
  return p == PH_REQUEST_HEADERS || p == PH_REQUEST_BODY || p == PH_REQUEST_TRAILERS ||
         p == PH_HTTP_CALL_RESPONSE;
}

/* ---- state ----------------------------------------------------------------------------------- */
typedef struct {
  uint32_t id;
  json_value *config; /* plugin configuration (NULL = empty) */
  char *tag;
  bool log_phases;
} root_ctx;

typedef struct {
  char *name;
  char *value;
} owned_header;

typedef struct {
  uint32_t id;
  uint32_t root_id;
  int paused_stream; /* -1 = not paused by a "pause" action, else pw_stream_type */
  owned_header *pending; /* response headers to add in on_response_headers */
  size_t pending_count;
} http_ctx;

typedef struct {
  uint32_t token;
  uint32_t context_id; /* HTTP context, or the root id for calls made from root phases */
  bool from_root;
  int stream;          /* stream to continue */
  char then[16];
} pending_call;

#define MAX_ROOTS 16
static root_ctx g_roots[MAX_ROOTS];
static size_t g_root_count;
static http_ctx *g_https;
static size_t g_http_count, g_http_cap;
static pending_call *g_calls;
static size_t g_call_count, g_call_cap;

static root_ctx *find_root(uint32_t id) {
  for (size_t i = 0; i < g_root_count; i++)
    if (g_roots[i].id == id) return &g_roots[i];
  return NULL;
}

static http_ctx *find_http(uint32_t id) {
  for (size_t i = 0; i < g_http_count; i++)
    if (g_https[i].id == id) return &g_https[i];
  return NULL;
}

static char *dup_cstr(const char *s) {
  size_t n = strlen(s);
  char *d = (char *)malloc(n + 1);
  if (d == NULL) __builtin_trap();
  memcpy(d, s, n + 1);
  return d;
}

/* ---- logging helpers ------------------------------------------------------------------------ */
static void log_phase(const root_ctx *root, const char *name) {
  if (root && !root->log_phases) return;
  pw_str s = {0};
  pw_str_add(pw_str_add(&s, "phase:"), name);
  if (root && root->tag) pw_str_add(pw_str_add(&s, " tag="), root->tag);
  pw_log_str(PW_LOG_INFO, &s);
  pw_str_free(&s);
}

static void log_result(const char *action, pw_status status) {
  pw_str s = {0};
  pw_str_add(pw_str_add(&s, "result:"), action);
  pw_str_add_u64(pw_str_addc(&s, '='), (uint64_t)status);
  pw_log_str(PW_LOG_INFO, &s);
  pw_str_free(&s);
}

/* Printable ASCII is kept as is; anything else is rendered as "hex:<lowercase hex>". */
static void add_rendered(pw_str *s, const char *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if ((unsigned char)p[i] < 0x20 || (unsigned char)p[i] > 0x7e) {
      pw_str_add_hex(pw_str_add(s, "hex:"), p, n);
      return;
    }
  }
  pw_str_addn(s, p, n);
}

/* ---- action execution ----------------------------------------------------------------------- */
typedef struct {
  phase_id phase;
  root_ctx *root;
  http_ctx *http; /* NULL in root phases */
  uint32_t context_id;
  bool eos;
  uint32_t size; /* body size / header count */
  uint32_t ret;  /* value returned to the host */
} phase_run;

static void emit_response_header(phase_run *r, const char *name, const char *value) {
  if (r->http == NULL) return;
  if (r->phase == PH_RESPONSE_HEADERS) {
    pw_set_header(PW_MAP_HTTP_RESPONSE_HEADERS, name, value);
    return;
  }
  if (!phase_is_request(r->phase)) return; /* too late for response headers */
  http_ctx *h = r->http;
  owned_header *p = (owned_header *)realloc(h->pending, (h->pending_count + 1) * sizeof(owned_header));
  if (p == NULL) __builtin_trap();
  h->pending = p;
  h->pending[h->pending_count].name = dup_cstr(name);
  h->pending[h->pending_count].value = dup_cstr(value);
  h->pending_count++;
}

static uint32_t map_of(const json_value *a, phase_run *r) {
  const json_value *m = json_get(a, "map");
  if (json_is(m, JSON_NUMBER)) return (uint32_t)m->number;
  const char *name = json_string_or(m, NULL);
  if (name == NULL) return phase_is_request(r->phase) ? PW_MAP_HTTP_REQUEST_HEADERS : PW_MAP_HTTP_RESPONSE_HEADERS;
  if (strcmp(name, "request") == 0) return PW_MAP_HTTP_REQUEST_HEADERS;
  if (strcmp(name, "request_trailers") == 0) return PW_MAP_HTTP_REQUEST_TRAILERS;
  if (strcmp(name, "response_trailers") == 0) return PW_MAP_HTTP_RESPONSE_TRAILERS;
  if (strcmp(name, "http_call_response") == 0) return PW_MAP_HTTP_CALL_RESPONSE_HEADERS;
  return PW_MAP_HTTP_RESPONSE_HEADERS;
}

static uint32_t buffer_of(const json_value *a, phase_run *r) {
  const json_value *b = json_get(a, "buffer");
  if (json_is(b, JSON_NUMBER)) return (uint32_t)b->number;
  if (r->phase == PH_RESPONSE_BODY) return PW_BUFFER_HTTP_RESPONSE_BODY;
  if (r->phase == PH_HTTP_CALL_RESPONSE) return PW_BUFFER_HTTP_CALL_RESPONSE_BODY;
  if (r->phase == PH_VM_START) return PW_BUFFER_VM_CONFIGURATION;
  if (r->phase == PH_CONFIGURE) return PW_BUFFER_PLUGIN_CONFIGURATION;
  return PW_BUFFER_HTTP_REQUEST_BODY;
}

static uint32_t stream_of(const json_value *a, phase_run *r) {
  const json_value *s = json_get(a, "stream");
  if (json_is(s, JSON_NUMBER)) return (uint32_t)s->number;
  const char *name = json_string_or(s, NULL);
  if (name == NULL) return phase_is_request(r->phase) ? PW_STREAM_HTTP_REQUEST : PW_STREAM_HTTP_RESPONSE;
  if (strcmp(name, "request") == 0) return PW_STREAM_HTTP_REQUEST;
  if (strcmp(name, "response") == 0) return PW_STREAM_HTTP_RESPONSE;
  if (strcmp(name, "downstream") == 0) return PW_STREAM_DOWNSTREAM;
  return PW_STREAM_UPSTREAM;
}

static uint32_t level_of(const json_value *a) {
  const json_value *l = json_get(a, "level");
  if (json_is(l, JSON_NUMBER)) return (uint32_t)l->number;
  const char *n = json_string_or(l, "info");
  static const char *const names[] = {"trace", "debug", "info", "warn", "error", "critical"};
  for (uint32_t i = 0; i < 6; i++)
    if (strcmp(n, names[i]) == 0) return i;
  return PW_LOG_INFO;
}

/* Serializes a JSON object {"k":"v",...} into pairs (values must be strings). */
static void pairs_from_object(const json_value *obj, pw_pairs *out) {
  if (!json_is(obj, JSON_OBJECT)) return;
  for (size_t i = 0; i < obj->count; i++) {
    const json_value *v = obj->items[i];
    if (json_is(v, JSON_STRING))
      pw_pairs_add_n(out, obj->keys[i]->string, obj->keys[i]->string_len, v->string, v->string_len);
  }
}

static void act_local_response(const json_value *a) {
  pw_pairs headers = {0};
  pairs_from_object(json_get(a, "headers"), &headers);
  pw_bytes h = pw_pairs_serialize(&headers);
  const char *body = json_get_string(a, "body", "");
  const char *details = json_get_string(a, "details", "");
  const json_value *grpc = json_get(a, "grpc_status");
  pw_status s = proxy_send_local_response((uint32_t)json_get_number(a, "status", 200), details,
                                          strlen(details), body, strlen(body), h.data, h.len,
                                          json_is(grpc, JSON_NUMBER) ? (int32_t)grpc->number
                                                                     : PW_GRPC_STATUS_NONE);
  pw_bytes_free(&h);
  pw_pairs_free(&headers);
  log_result("local_response", s);
}

static void act_http_call(const json_value *a, phase_run *r) {
  const char *upstream = json_get_string(a, "upstream", "");
  pw_pairs headers = {0};
  pw_pairs_add(&headers, ":method", json_get_string(a, "method", "GET"));
  pw_pairs_add(&headers, ":path", json_get_string(a, "path", "/"));
  pw_pairs_add(&headers, ":authority", json_get_string(a, "authority", upstream));
  pairs_from_object(json_get(a, "headers"), &headers);
  pw_bytes h = pw_pairs_serialize(&headers);
  const char *body = json_get_string(a, "body", "");
  uint32_t token = 0;
  pw_status s = proxy_http_call(upstream, strlen(upstream), h.data, h.len, body, strlen(body), NULL,
                                0, (uint32_t)json_get_number(a, "timeout_ms", 1000), &token);
  pw_bytes_free(&h);
  pw_pairs_free(&headers);
  log_result("http_call", s);
  if (s != PW_OK) {
    pw_str v = {0};
    pw_str_add_u64(&v, (uint64_t)s);
    emit_response_header(r, "x-http-call-dispatch-status", pw_str_cstr(&v));
    pw_str_free(&v);
    return;
  }
  if (g_call_count == g_call_cap) {
    g_call_cap = g_call_cap ? g_call_cap * 2 : 8;
    g_calls = (pending_call *)realloc(g_calls, g_call_cap * sizeof(pending_call));
    if (g_calls == NULL) __builtin_trap();
  }
  pending_call *c = &g_calls[g_call_count++];
  c->token = token;
  c->context_id = r->context_id;
  c->from_root = r->http == NULL;
  c->stream = phase_is_request(r->phase) ? PW_STREAM_HTTP_REQUEST : PW_STREAM_HTTP_RESPONSE;
  const char *then = json_get_string(a, "then", "continue");
  strncpy(c->then, then, sizeof c->then - 1);
  c->then[sizeof c->then - 1] = 0;
  if (r->http && r->phase != PH_HTTP_CALL_RESPONSE && r->phase != PH_LOG && r->phase != PH_DONE) {
    r->ret = PW_PAUSE;
    r->http->paused_stream = c->stream;
  }
}

static void act_get_property(const json_value *a, phase_run *r) {
  const char *name = json_get_string(a, "name", "");
  pw_bytes v;
  pw_status s = pw_get_property(name, &v);
  pw_str text = {0};
  if (s == PW_OK) add_rendered(&text, v.data, v.len);
  else pw_str_add_u64(pw_str_add(&text, "!status="), (uint64_t)s);
  pw_bytes_free(&v);
  pw_str msg = {0};
  pw_str_add(pw_str_add(pw_str_add(&msg, "property:"), name), "=");
  pw_str_add(&msg, pw_str_cstr(&text));
  pw_log_str(PW_LOG_INFO, &msg);
  pw_str_free(&msg);
  pw_str hdr = {0};
  pw_str_add(pw_str_add(&hdr, "x-property-"), name);
  emit_response_header(r, pw_str_cstr(&hdr), pw_str_cstr(&text));
  pw_str_free(&hdr);
  pw_str_free(&text);
}

static void act_get_header(const json_value *a, phase_run *r) {
  const char *name = json_get_string(a, "name", "");
  char *value = NULL;
  size_t len = 0;
  pw_status s = proxy_get_header_map_value(map_of(a, r), name, strlen(name), &value, &len);
  pw_str text = {0};
  if (s == PW_OK) add_rendered(&text, value, len);
  else pw_str_add_u64(pw_str_add(&text, "!status="), (uint64_t)s);
  free(value);
  pw_str msg = {0};
  pw_str_add(pw_str_add(pw_str_add(&msg, "header:"), name), "=");
  pw_str_add(&msg, pw_str_cstr(&text));
  pw_log_str(PW_LOG_INFO, &msg);
  pw_str_free(&msg);
  pw_str hdr = {0};
  pw_str_add(pw_str_add(&hdr, "x-header-"), name);
  emit_response_header(r, pw_str_cstr(&hdr), pw_str_cstr(&text));
  pw_str_free(&hdr);
  pw_str_free(&text);
}

static void act_get_headers(const json_value *a, phase_run *r) {
  pw_bytes pairs;
  pw_status s = pw_get_header_pairs((pw_map_type)map_of(a, r), &pairs);
  pw_str msg = {0};
  pw_str_add(&msg, "headers:");
  if (s != PW_OK) {
    pw_str_add_u64(pw_str_add(&msg, "!status="), (uint64_t)s);
  } else {
    pw_pairs_iter it = pw_pairs_iter_init(pairs.data, pairs.len);
    pw_pair p;
    bool first = true;
    while (pw_pairs_next(&it, &p)) {
      if (!first) pw_str_add(&msg, ", ");
      first = false;
      pw_str_addn(&msg, p.key, p.key_len);
      pw_str_addc(&msg, '=');
      add_rendered(&msg, p.value, p.value_len);
    }
  }
  pw_bytes_free(&pairs);
  pw_log_str(PW_LOG_INFO, &msg);
  pw_str_free(&msg);
}

static void act_get_body(const json_value *a, phase_run *r) {
  uint32_t type = buffer_of(a, r);
  size_t total = 0;
  uint32_t flags = 0;
  pw_status s = proxy_get_buffer_status(type, &total, &flags);
  pw_bytes body = {NULL, 0};
  if (s == PW_OK) s = pw_get_buffer((pw_buffer_type)type, 0, total, &body);
  pw_str msg = {0};
  pw_str_add(&msg, "body:");
  if (s == PW_OK) add_rendered(&msg, body.data, body.len);
  else pw_str_add_u64(pw_str_add(&msg, "!status="), (uint64_t)s);
  pw_bytes_free(&body);
  pw_log_str(PW_LOG_INFO, &msg);
  pw_str_free(&msg);
}

static void act_set_body(const json_value *a, phase_run *r) {
  uint32_t type = buffer_of(a, r);
  const char *body = json_get_string(a, "body", "");
  size_t total = 0;
  uint32_t flags = 0;
  if (proxy_get_buffer_status(type, &total, &flags) != PW_OK) total = r->size;
  uint32_t start = (uint32_t)json_get_number(a, "start", 0);
  uint32_t size = (uint32_t)json_get_number(a, "size", (double)total);
  log_result("set_body", proxy_set_buffer_bytes(type, start, size, body, strlen(body)));
}

static void act_grow(const json_value *a) {
  uint32_t limit = (uint32_t)json_get_number(a, "pages", 65536);
  uint32_t grown = 0;
  bool failed = false;
  while (grown < limit) {
    if (__builtin_wasm_memory_grow(0, 1) == (size_t)-1) {
      failed = true;
      break;
    }
    grown++;
  }
  pw_str msg = {0};
  pw_str_add_u64(pw_str_add(&msg, "grow:pages="), grown);
  pw_str_add(&msg, failed ? " failed=true" : " failed=false");
  pw_log_str(PW_LOG_INFO, &msg);
  pw_str_free(&msg);
}

static void act_resume(void) {
  for (size_t i = 0; i < g_http_count; i++) {
    http_ctx *h = &g_https[i];
    if (h->paused_stream < 0) continue;
    proxy_set_effective_context(h->id);
    pw_status s = proxy_continue_stream((uint32_t)h->paused_stream);
    h->paused_stream = -1;
    log_result("resume", s);
  }
}

/* Runs one action; returns false when the remaining actions of the phase must be skipped. */
static bool run_action(const json_value *a, phase_run *r) {
  const char *name = json_is(a, JSON_STRING) ? a->string : json_get_string(a, "action", "continue");
  if (json_get_bool(a, "when_eos", false) && !r->eos) return true;

  if (strcmp(name, "continue") == 0) {
    r->ret = phase_is_bool(r->phase) ? 1 : PW_CONTINUE;
  } else if (strcmp(name, "pause") == 0) {
    r->ret = PW_PAUSE;
    if (r->http) r->http->paused_stream = phase_is_request(r->phase) ? PW_STREAM_HTTP_REQUEST : PW_STREAM_HTTP_RESPONSE;
  } else if (strcmp(name, "fail") == 0) {
    r->ret = 0;
  } else if (strcmp(name, "return") == 0) {
    r->ret = (uint32_t)json_get_number(a, "value", 0);
  } else if (strcmp(name, "buffer") == 0) {
    if (!r->eos) {
      r->ret = PW_PAUSE;
      return false;
    }
  } else if (strcmp(name, "trap") == 0) {
    __builtin_trap();
  } else if (strcmp(name, "loop") == 0) {
    volatile uint32_t spin = 0;
    for (;;) spin++;
  } else if (strcmp(name, "grow") == 0) {
    act_grow(a);
  } else if (strcmp(name, "proc_exit") == 0) {
    __wasi_proc_exit((__wasi_exitcode_t)json_get_number(a, "code", 0));
  } else if (strcmp(name, "log") == 0) {
    const char *m = json_get_string(a, "message", "");
    proxy_log(level_of(a), m, strlen(m));
  } else if (strcmp(name, "local_response") == 0) {
    act_local_response(a);
  } else if (strcmp(name, "http_call") == 0) {
    act_http_call(a, r);
  } else if (strcmp(name, "set_header") == 0 || strcmp(name, "add_header") == 0) {
    const char *h = json_get_string(a, "name", ""), *v = json_get_string(a, "value", "");
    pw_status s = name[0] == 's'
                      ? proxy_replace_header_map_value(map_of(a, r), h, strlen(h), v, strlen(v))
                      : proxy_add_header_map_value(map_of(a, r), h, strlen(h), v, strlen(v));
    log_result(name, s);
  } else if (strcmp(name, "remove_header") == 0) {
    const char *h = json_get_string(a, "name", "");
    log_result(name, proxy_remove_header_map_value(map_of(a, r), h, strlen(h)));
  } else if (strcmp(name, "get_header") == 0) {
    act_get_header(a, r);
  } else if (strcmp(name, "get_headers") == 0) {
    act_get_headers(a, r);
  } else if (strcmp(name, "get_property") == 0) {
    act_get_property(a, r);
  } else if (strcmp(name, "set_property") == 0) {
    const char *v = json_get_string(a, "value", "");
    log_result(name, pw_set_property(json_get_string(a, "name", ""), v, strlen(v)));
  } else if (strcmp(name, "get_body") == 0) {
    act_get_body(a, r);
  } else if (strcmp(name, "set_body") == 0) {
    act_set_body(a, r);
  } else if (strcmp(name, "tick") == 0) {
    log_result(name, proxy_set_tick_period_milliseconds((uint32_t)json_get_number(a, "period_ms", 0)));
  } else if (strcmp(name, "resume") == 0) {
    act_resume();
  } else if (strcmp(name, "continue_stream") == 0) {
    log_result(name, proxy_continue_stream(stream_of(a, r)));
  } else if (strcmp(name, "close_stream") == 0) {
    log_result(name, proxy_close_stream(stream_of(a, r)));
  } else if (strcmp(name, "call_done") == 0) {
    log_result(name, proxy_done());
  } else if (strcmp(name, "get_log_level") == 0) {
    uint32_t level = 0;
    pw_status s = proxy_get_log_level(&level);
    pw_str msg = {0};
    pw_str_add_u64(pw_str_add(&msg, "log_level="), level);
    pw_log_str(PW_LOG_INFO, &msg);
    pw_str_free(&msg);
    log_result(name, s);
  } else {
    pw_str msg = {0};
    pw_str_add(pw_str_add(&msg, "unknown action: "), name);
    pw_log_str(PW_LOG_WARN, &msg);
    pw_str_free(&msg);
  }
  return true;
}

static uint32_t run_phase(phase_id phase, root_ctx *root, http_ctx *http, uint32_t context_id,
                          uint32_t size, bool eos) {
  phase_run r = {phase, root, http, context_id, eos, size, phase_is_bool(phase) ? 1u : PW_CONTINUE};
  const json_value *cfg = root ? json_get(root->config, PHASE_NAMES[phase]) : NULL;
  if (json_is(cfg, JSON_ARRAY)) {
    for (size_t i = 0; i < cfg->count; i++)
      if (!run_action(cfg->items[i], &r)) break;
  } else if (cfg != NULL) {
    run_action(cfg, &r);
  }
  return r.ret;
}

/* ---- configuration -------------------------------------------------------------------------- */
static json_value *parse_config(const pw_bytes *b, const char **err) {
  *err = NULL;
  if (b->len == 0) return NULL;
  json_value *v = json_parse(b->data, b->len, err);
  if (v != NULL && v->type != JSON_OBJECT) {
    json_free(v);
    *err = "configuration must be a JSON object";
    return NULL;
  }
  return v;
}

static void log_config_error(const char *err) {
  pw_str msg = {0};
  pw_str_add(pw_str_add(&msg, "config error: "), err);
  pw_log_str(PW_LOG_ERROR, &msg);
  pw_str_free(&msg);
}

/* ---- root callbacks ------------------------------------------------------------------------- */
PW_EXPORT(proxy_on_context_create) void on_context_create(uint32_t ctx, uint32_t parent) {
  if (parent == 0) {
    if (g_root_count == MAX_ROOTS) __builtin_trap();
    root_ctx *r = &g_roots[g_root_count++];
    memset(r, 0, sizeof *r);
    r->id = ctx;
    r->log_phases = true;
    log_phase(NULL, "root_context_create");
    return;
  }
  if (g_http_count == g_http_cap) {
    g_http_cap = g_http_cap ? g_http_cap * 2 : 16;
    g_https = (http_ctx *)realloc(g_https, g_http_cap * sizeof(http_ctx));
    if (g_https == NULL) __builtin_trap();
  }
  http_ctx *h = &g_https[g_http_count++];
  memset(h, 0, sizeof *h);
  h->id = ctx;
  h->root_id = parent;
  h->paused_stream = -1;
  log_phase(find_root(parent), "context_create");
}

PW_EXPORT(proxy_on_vm_start) uint32_t on_vm_start(uint32_t root_id, uint32_t vm_config_size) {
  root_ctx *root = find_root(root_id);
  log_phase(NULL, "vm_start");
  /* vm_start actions come from the VM configuration, or else from the plugin configuration
   * (hosts that allow reading it this early); the parsed copy is dropped afterwards. */
  pw_bytes b;
  pw_get_vm_config(vm_config_size, &b);
  if (b.len == 0) {
    size_t size = 0;
    uint32_t flags = 0;
    if (proxy_get_buffer_status(PW_BUFFER_PLUGIN_CONFIGURATION, &size, &flags) == PW_OK && size > 0)
      pw_get_buffer(PW_BUFFER_PLUGIN_CONFIGURATION, 0, size, &b);
  }
  const char *err;
  json_value *cfg = parse_config(&b, &err);
  pw_bytes_free(&b);
  if (cfg == NULL || root == NULL) {
    json_free(cfg);
    return 1;
  }
  root->config = cfg;
  uint32_t ret = run_phase(PH_VM_START, root, NULL, root_id, vm_config_size, true);
  root->config = NULL;
  json_free(cfg);
  return ret;
}

PW_EXPORT(proxy_on_configure) uint32_t on_configure(uint32_t root_id, uint32_t size) {
  root_ctx *root = find_root(root_id);
  if (root == NULL) return 0;
  pw_bytes b;
  pw_get_plugin_config(size, &b);
  const char *err;
  json_value *cfg = parse_config(&b, &err);
  pw_bytes_free(&b);
  json_free(root->config);
  root->config = cfg;
  free(root->tag);
  const char *tag = json_get_string(cfg, "tag", NULL);
  root->tag = tag ? dup_cstr(tag) : NULL;
  root->log_phases = json_get_bool(cfg, "log_phases", true);
  log_phase(root, "configure");
  if (err != NULL) {
    log_config_error(err);
    return 0;
  }
  return run_phase(PH_CONFIGURE, root, NULL, root_id, size, true);
}

PW_EXPORT(proxy_on_tick) void on_tick(uint32_t root_id) {
  root_ctx *root = find_root(root_id);
  log_phase(root, "tick");
  run_phase(PH_TICK, root, NULL, root_id, 0, true);
}

PW_EXPORT(proxy_on_queue_ready) void on_queue_ready(uint32_t root_id, uint32_t queue_id) {
  root_ctx *root = find_root(root_id);
  log_phase(root, "queue_ready");
  run_phase(PH_QUEUE_READY, root, NULL, root_id, queue_id, true);
}

PW_EXPORT(proxy_on_foreign_function) void on_foreign_function(uint32_t root_id, uint32_t fid, uint32_t size) {
  (void)fid;
  root_ctx *root = find_root(root_id);
  log_phase(root, "foreign_function");
  run_phase(PH_FOREIGN_FUNCTION, root, NULL, root_id, size, true);
}

PW_EXPORT(proxy_on_http_call_response)
void on_http_call_response(uint32_t root_id, uint32_t token, uint32_t nheaders, uint32_t body_size,
                           uint32_t ntrailers) {
  (void)ntrailers;
  root_ctx *root = find_root(root_id);
  log_phase(root, "http_call_response");
  pending_call call = {0};
  bool found = false;
  for (size_t i = 0; i < g_call_count; i++) {
    if (g_calls[i].token == token) {
      call = g_calls[i];
      g_calls[i] = g_calls[--g_call_count];
      found = true;
      break;
    }
  }
  if (!found) {
    pw_log(PW_LOG_ERROR, "http_call_response: unknown token");
    return;
  }
  http_ctx *http = call.from_root ? NULL : find_http(call.context_id);
  if (!call.from_root) {
    if (http == NULL) return; /* the request is gone */
    proxy_set_effective_context(http->id);
  }
  pw_bytes status = {NULL, 0};
  if (nheaders > 0) pw_get_header(PW_MAP_HTTP_CALL_RESPONSE_HEADERS, ":status", &status);
  pw_bytes body = {NULL, 0};
  if (body_size > 0) pw_get_buffer(PW_BUFFER_HTTP_CALL_RESPONSE_BODY, 0, body_size, &body);
  char *status_text = nheaders > 0 && status.len > 0 ? pw_bytes_cstr(&status) : dup_cstr("failed");

  pw_str msg = {0};
  pw_str_add(pw_str_add(&msg, "http_call_response:status="), status_text);
  pw_str_add_u64(pw_str_add(&msg, " body_size="), body_size);
  pw_log_str(PW_LOG_INFO, &msg);
  pw_str_free(&msg);

  run_phase(PH_HTTP_CALL_RESPONSE, root, http, http ? http->id : root_id, body_size, true);

  if (http != NULL) {
    if (strcmp(call.then, "respond") == 0) {
      uint64_t code = 0;
      if (!pw_parse_u64(status.data, status.len, &code) || nheaders == 0) code = 502;
      log_result("respond", proxy_send_local_response((uint32_t)code, "", 0, body.data, body.len,
                                                      NULL, 0, PW_GRPC_STATUS_NONE));
    } else if (strcmp(call.then, "continue") == 0) {
      phase_run r = {PH_HTTP_CALL_RESPONSE, root, http, http->id, true, 0, 0};
      emit_response_header(&r, "x-http-call-status", status_text);
      http->paused_stream = -1;
      log_result("continue", proxy_continue_stream((uint32_t)call.stream));
    }
  }
  free(status_text);
  pw_bytes_free(&status);
  pw_bytes_free(&body);
}

/* ---- HTTP callbacks ------------------------------------------------------------------------- */
static uint32_t http_phase(phase_id phase, uint32_t ctx, uint32_t size, uint32_t eos) {
  http_ctx *h = find_http(ctx);
  root_ctx *root = h ? find_root(h->root_id) : NULL;
  log_phase(root, PHASE_NAMES[phase]);
  if (h == NULL) return phase_is_bool(phase) ? 1 : PW_CONTINUE;
  if (phase == PH_RESPONSE_HEADERS) {
    for (size_t i = 0; i < h->pending_count; i++) {
      pw_set_header(PW_MAP_HTTP_RESPONSE_HEADERS, h->pending[i].name, h->pending[i].value);
      free(h->pending[i].name);
      free(h->pending[i].value);
    }
    h->pending_count = 0;
  }
  return run_phase(phase, root, h, ctx, size, eos != 0);
}

PW_EXPORT(proxy_on_request_headers) uint32_t on_request_headers(uint32_t ctx, uint32_t n, uint32_t eos) {
  return http_phase(PH_REQUEST_HEADERS, ctx, n, eos);
}
PW_EXPORT(proxy_on_request_body) uint32_t on_request_body(uint32_t ctx, uint32_t size, uint32_t eos) {
  return http_phase(PH_REQUEST_BODY, ctx, size, eos);
}
PW_EXPORT(proxy_on_request_trailers) uint32_t on_request_trailers(uint32_t ctx, uint32_t n) {
  return http_phase(PH_REQUEST_TRAILERS, ctx, n, 1);
}
PW_EXPORT(proxy_on_response_headers) uint32_t on_response_headers(uint32_t ctx, uint32_t n, uint32_t eos) {
  return http_phase(PH_RESPONSE_HEADERS, ctx, n, eos);
}
PW_EXPORT(proxy_on_response_body) uint32_t on_response_body(uint32_t ctx, uint32_t size, uint32_t eos) {
  return http_phase(PH_RESPONSE_BODY, ctx, size, eos);
}
PW_EXPORT(proxy_on_response_trailers) uint32_t on_response_trailers(uint32_t ctx, uint32_t n) {
  return http_phase(PH_RESPONSE_TRAILERS, ctx, n, 1);
}

PW_EXPORT(proxy_on_done) uint32_t on_done(uint32_t ctx) {
  root_ctx *root = find_root(ctx);
  if (root != NULL) {
    log_phase(root, "root_done");
    return 1;
  }
  return http_phase(PH_DONE, ctx, 0, 1);
}

PW_EXPORT(proxy_on_log) void on_log(uint32_t ctx) {
  if (find_root(ctx) == NULL) http_phase(PH_LOG, ctx, 0, 1);
}

PW_EXPORT(proxy_on_delete) void on_delete(uint32_t ctx) {
  root_ctx *root = find_root(ctx);
  if (root != NULL) {
    log_phase(root, "root_delete");
    json_free(root->config);
    free(root->tag);
    *root = g_roots[--g_root_count];
    return;
  }
  http_ctx *h = find_http(ctx);
  if (h == NULL) return;
  log_phase(find_root(h->root_id), "delete");
  for (size_t i = 0; i < h->pending_count; i++) {
    free(h->pending[i].name);
    free(h->pending[i].value);
  }
  free(h->pending);
  *h = g_https[--g_http_count];
}
