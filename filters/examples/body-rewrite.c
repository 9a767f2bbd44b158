/*
 * body-rewrite: rewrites response bodies.
 *
 * Config: {"find": "x", "replace": "y", "prefix": "<<", "append": ">>", "content_type": "text/"}
 * All optional, but at least one of "find", "prefix", "append" is required. Every occurrence of
 * "find" is replaced by "replace" (default ""), then "prefix" is prepended and "append" appended.
 * When "content_type" is set, only responses whose Content-Type starts with it are rewritten.
 *
 * The body length may change, so Content-Length is removed from rewritten responses (the host
 * then frames the body itself). The body is buffered (Pause) until end_of_stream, then rewritten
 * in one piece.
 */
#include "../sdk/pw_filter.h"

static char *g_find, *g_replace, *g_prefix, *g_append, *g_content_type;
static pw_ctx_map g_skip; /* contexts whose response is not rewritten */

static bool is_string_or_absent(const json_value *cfg, const char *key) {
  const json_value *v = json_get(cfg, key);
  return v == NULL || v->type == JSON_STRING;
}

PW_NOOP_LIFECYCLE()

PW_EXPORT(proxy_on_configure) uint32_t on_configure(uint32_t root, uint32_t size) {
  (void)root;
  json_value *cfg = pw_config_json(size, NULL);
  static const char *const keys[] = {"find", "replace", "prefix", "append", "content_type"};
  bool ok = json_is(cfg, JSON_OBJECT);
  for (size_t i = 0; ok && i < 5; i++) ok = is_string_or_absent(cfg, keys[i]);
  const char *find = json_get_string(cfg, "find", NULL);
  if (find && find[0] == 0) ok = false;
  if (ok && !find && !json_get(cfg, "prefix") && !json_get(cfg, "append")) ok = false;
  if (ok) {
    free(g_find), free(g_replace), free(g_prefix), free(g_append), free(g_content_type);
    g_find = pw_strdup(find);
    g_replace = pw_strdup(json_get_string(cfg, "replace", ""));
    g_prefix = pw_strdup(json_get_string(cfg, "prefix", ""));
    g_append = pw_strdup(json_get_string(cfg, "append", ""));
    g_content_type = pw_strdup(json_get_string(cfg, "content_type", NULL));
  } else {
    pw_log(PW_LOG_ERROR, "body-rewrite: invalid configuration (need find, prefix or append)");
  }
  json_free(cfg);
  return ok ? 1 : 0;
}

PW_EXPORT(proxy_on_response_headers) uint32_t on_response_headers(uint32_t ctx, uint32_t n, uint32_t eos) {
  (void)n;
  (void)eos;
  if (g_content_type != NULL) {
    pw_bytes ct;
    bool match = pw_get_header(PW_MAP_HTTP_RESPONSE_HEADERS, "content-type", &ct) == PW_OK &&
                 ct.len >= strlen(g_content_type) &&
                 strncmp(ct.data, g_content_type, strlen(g_content_type)) == 0;
    pw_bytes_free(&ct);
    if (!match) {
      pw_ctx_put(&g_skip, ctx, (void *)1);
      return PW_CONTINUE;
    }
  }
  pw_remove_header(PW_MAP_HTTP_RESPONSE_HEADERS, "content-length");
  return PW_CONTINUE;
}

static void rewrite(const char *body, size_t len, pw_str *out) {
  pw_str_add(out, g_prefix ? g_prefix : "");
  size_t flen = g_find ? strlen(g_find) : 0;
  size_t i = 0;
  while (i < len) {
    if (flen && i + flen <= len && memcmp(body + i, g_find, flen) == 0) {
      pw_str_add(out, g_replace);
      i += flen;
    } else {
      pw_str_addc(out, body[i++]);
    }
  }
  pw_str_add(out, g_append ? g_append : "");
}

PW_EXPORT(proxy_on_response_body) uint32_t on_response_body(uint32_t ctx, uint32_t size, uint32_t eos) {
  if (pw_ctx_get(&g_skip, ctx) != NULL) return PW_CONTINUE;
  if (!eos) return PW_PAUSE; /* buffer the whole body */
  pw_bytes body = {NULL, 0};
  if (size > 0 && pw_get_buffer(PW_BUFFER_HTTP_RESPONSE_BODY, 0, size, &body) != PW_OK) return PW_CONTINUE;
  pw_str out = {0};
  rewrite(body.data ? body.data : "", body.len, &out);
  pw_replace_buffer(PW_BUFFER_HTTP_RESPONSE_BODY, size, pw_str_cstr(&out), out.len);
  pw_str_free(&out);
  pw_bytes_free(&body);
  return PW_CONTINUE;
}

PW_EXPORT(proxy_on_delete) void on_delete(uint32_t ctx) { pw_ctx_take(&g_skip, ctx); }
