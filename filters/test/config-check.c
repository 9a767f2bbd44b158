/*
 * config-check: validates its own configuration in proxy_on_configure. Accepts only a JSON object
 * with a non-empty string field "name" (and, if present, "status" must be a number); anything
 * else (empty, invalid JSON, wrong types) makes proxy_on_configure return false, after logging
 * "config-check: rejected: <reason>" at error. Accepted configurations log
 * "config-check: accepted name=<name>" at info; every response then gets "x-config-check: <name>".
 */
#include "../sdk/pw_filter.h"

static char *g_name;

static uint32_t reject(const char *reason) {
  pw_str m = {0};
  pw_str_add(pw_str_add(&m, "config-check: rejected: "), reason);
  pw_log_str(PW_LOG_ERROR, &m);
  pw_str_free(&m);
  return 0;
}

PW_NOOP_LIFECYCLE()

PW_EXPORT(proxy_on_configure) uint32_t on_configure(uint32_t root, uint32_t size) {
  (void)root;
  bool valid;
  json_value *cfg = pw_config_json(size, &valid);
  if (cfg == NULL) return reject(valid ? "configuration is empty" : "invalid JSON");
  uint32_t ok = 0;
  const json_value *name = json_get(cfg, "name");
  const json_value *status = json_get(cfg, "status");
  if (cfg->type != JSON_OBJECT) ok = reject("configuration must be a JSON object");
  else if (!json_is(name, JSON_STRING) || name->string_len == 0) ok = reject("field 'name' (non-empty string) is required");
  else if (status != NULL && status->type != JSON_NUMBER) ok = reject("field 'status' must be a number");
  else {
    free(g_name);
    g_name = pw_strdup(name->string);
    pw_str m = {0};
    pw_str_add(pw_str_add(&m, "config-check: accepted name="), g_name);
    pw_log_str(PW_LOG_INFO, &m);
    pw_str_free(&m);
    ok = 1;
  }
  json_free(cfg);
  return ok;
}

PW_EXPORT(proxy_on_response_headers) uint32_t on_response_headers(uint32_t ctx, uint32_t n, uint32_t eos) {
  (void)ctx;
  (void)n;
  (void)eos;
  if (g_name) pw_set_header(PW_MAP_HTTP_RESPONSE_HEADERS, "x-config-check", g_name);
  return PW_CONTINUE;
}
