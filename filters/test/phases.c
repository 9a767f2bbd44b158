/*
 * phases: behaviour-by-configuration test filter (ABI 0.2.1). See filters/test/README.md for the
 * exact contract; this file is the implementation of that document.
 *
 * Every callback logs "phase:<name>" at info, then runs the actions configured for that phase.
 */
#include "../sdk/pw_filter.h"
#include "phases_actions.h"
#include "phases_state.h"

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
  root->tag = tag ? pw_strdup(tag) : NULL;
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
  char *status_text = nheaders > 0 && status.len > 0 ? pw_bytes_cstr(&status) : pw_strdup("failed");

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
