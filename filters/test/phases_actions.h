/* phases_actions.h - part of the phases test filter (included by phases.c only): the actions a
 * phase can run (see README.md, "Actions") and the per-phase runner. */
#ifndef PHASES_ACTIONS_H
#define PHASES_ACTIONS_H

#include <wasi/api.h>

#include "phases_state.h"

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
  h->pending[h->pending_count].name = pw_strdup(name);
  h->pending[h->pending_count].value = pw_strdup(value);
  h->pending_count++;
}

static uint32_t map_of(const json_value *a, phase_run *r) {
  const json_value *m = json_get(a, "map");
  if (json_is(m, JSON_NUMBER)) return json_number_word(m->number);
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
  if (json_is(b, JSON_NUMBER)) return json_number_word(b->number);
  if (r->phase == PH_RESPONSE_BODY) return PW_BUFFER_HTTP_RESPONSE_BODY;
  if (r->phase == PH_HTTP_CALL_RESPONSE) return PW_BUFFER_HTTP_CALL_RESPONSE_BODY;
  if (r->phase == PH_VM_START) return PW_BUFFER_VM_CONFIGURATION;
  if (r->phase == PH_CONFIGURE) return PW_BUFFER_PLUGIN_CONFIGURATION;
  return PW_BUFFER_HTTP_REQUEST_BODY;
}

static uint32_t stream_of(const json_value *a, phase_run *r) {
  const json_value *s = json_get(a, "stream");
  if (json_is(s, JSON_NUMBER)) return json_number_word(s->number);
  const char *name = json_string_or(s, NULL);
  if (name == NULL) return phase_is_request(r->phase) ? PW_STREAM_HTTP_REQUEST : PW_STREAM_HTTP_RESPONSE;
  if (strcmp(name, "request") == 0) return PW_STREAM_HTTP_REQUEST;
  if (strcmp(name, "response") == 0) return PW_STREAM_HTTP_RESPONSE;
  if (strcmp(name, "downstream") == 0) return PW_STREAM_DOWNSTREAM;
  return PW_STREAM_UPSTREAM;
}

static uint32_t level_of(const json_value *a) {
  const json_value *l = json_get(a, "level");
  if (json_is(l, JSON_NUMBER)) return json_number_word(l->number);
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
  pw_status s = proxy_send_local_response(json_get_u32(a, "status", 200), details,
                                          strlen(details), body, strlen(body), h.data, h.len,
                                          json_is(grpc, JSON_NUMBER) ? (int32_t)json_number_word(grpc->number)
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
                                0, json_get_u32(a, "timeout_ms", 1000), &token);
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
  uint32_t start = json_get_u32(a, "start", 0);
  uint32_t size = json_get_u32(a, "size", (uint32_t)total);
  log_result("set_body", proxy_set_buffer_bytes(type, start, size, body, strlen(body)));
}

static void act_grow(const json_value *a) {
  uint32_t limit = json_get_u32(a, "pages", 65536);
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
    r->ret = json_get_u32(a, "value", 0);
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
    __wasi_proc_exit((__wasi_exitcode_t)json_get_u32(a, "code", 0));
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
    log_result(name, proxy_set_tick_period_milliseconds(json_get_u32(a, "period_ms", 0)));
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

#endif
