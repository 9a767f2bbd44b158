/*
 * require-header: denies requests that lack a header with a local response.
 *
 * Config: {"header": "x-api-key", "value": "secret", "status": 401,
 *          "body": "missing x-api-key\n", "headers": {"www-authenticate": "ApiKey"}}
 * "header" is required; "value" (optional) additionally requires an exact value; "status"
 * defaults to 401, "body" to "", "headers" to none. Header names match case-insensitively.
 */
#include "../sdk/pw_filter.h"

static char *g_header, *g_value, *g_body;
static uint32_t g_status = 401;
static pw_pairs g_headers; /* owned */

PW_NOOP_LIFECYCLE()

static char *copy(const json_value *v) {
  if (v == NULL) return NULL;
  char *d = (char *)malloc(v->string_len + 1);
  if (d == NULL) __builtin_trap();
  memcpy(d, v->string, v->string_len + 1);
  return d;
}

PW_EXPORT(proxy_on_configure) uint32_t on_configure(uint32_t root, uint32_t size) {
  (void)root;
  json_value *cfg = pw_config_json(size, NULL);
  const json_value *header = json_get(cfg, "header"), *value = json_get(cfg, "value"),
                   *status = json_get(cfg, "status"), *body = json_get(cfg, "body"),
                   *headers = json_get(cfg, "headers");
  bool ok = json_is(header, JSON_STRING) && header->string_len > 0 &&
            (value == NULL || value->type == JSON_STRING) &&
            (body == NULL || body->type == JSON_STRING) &&
            (status == NULL || (status->type == JSON_NUMBER && status->number >= 100 && status->number <= 599)) &&
            (headers == NULL || headers->type == JSON_OBJECT);
  for (size_t i = 0; ok && headers && i < headers->count; i++) ok = json_is(headers->items[i], JSON_STRING);
  if (ok) {
    free(g_header), free(g_value), free(g_body);
    pw_pairs_free_owned(&g_headers);
    g_header = copy(header);
    g_value = copy(value);
    g_body = copy(body);
    g_status = status ? json_number_word(status->number) : 401;
    for (size_t i = 0; headers && i < headers->count; i++)
      pw_pairs_add_copy(&g_headers, headers->keys[i]->string, headers->keys[i]->string_len,
                        headers->items[i]->string, headers->items[i]->string_len);
  } else {
    pw_log(PW_LOG_ERROR, "require-header: invalid configuration (\"header\" is required)");
  }
  json_free(cfg);
  return ok ? 1 : 0;
}

PW_EXPORT(proxy_on_request_headers) uint32_t on_request_headers(uint32_t ctx, uint32_t n, uint32_t eos) {
  (void)ctx;
  (void)n;
  (void)eos;
  if (g_header == NULL) return PW_CONTINUE;
  pw_bytes v;
  pw_status s = pw_get_header(PW_MAP_HTTP_REQUEST_HEADERS, g_header, &v);
  bool allowed = s == PW_OK && (g_value == NULL ? v.len > 0 : pw_bytes_eq(&v, g_value));
  pw_bytes_free(&v);
  if (allowed) return PW_CONTINUE;
  const char *body = g_body ? g_body : "";
  pw_send_local_response(g_status, body, strlen(body), &g_headers, "require-header");
  return PW_PAUSE;
}
