/*
 * add-headers: adds and removes request and response headers.
 *
 * Config: {"request":  {"add": {"name": "value", ...}, "remove": ["name", ...]},
 *          "response": {"add": {...}, "remove": [...]}}
 * Every part is optional. For each direction the "remove" names are removed first, then every
 * "add" entry is set (replacing any existing value of that header). An invalid configuration makes
 * proxy_on_configure return false.
 */
#include "../sdk/pw_filter.h"

typedef struct {
  pw_pairs add;    /* owned copies */
  pw_pairs remove; /* owned copies; values unused */
} header_edits;

static header_edits g_request, g_response;

static void edits_clear(header_edits *e) {
  pw_pairs_free_owned(&e->add);
  pw_pairs_free_owned(&e->remove);
}

static bool edits_load(const json_value *section, header_edits *e) {
  edits_clear(e);
  if (section == NULL) return true;
  if (section->type != JSON_OBJECT) return false;
  const json_value *add = json_get(section, "add");
  const json_value *remove = json_get(section, "remove");
  if (add != NULL) {
    if (add->type != JSON_OBJECT) return false;
    for (size_t i = 0; i < add->count; i++) {
      const json_value *v = add->items[i];
      if (!json_is(v, JSON_STRING)) return false;
      pw_pairs_add_copy(&e->add, add->keys[i]->string, add->keys[i]->string_len, v->string, v->string_len);
    }
  }
  if (remove != NULL) {
    if (remove->type != JSON_ARRAY) return false;
    for (size_t i = 0; i < remove->count; i++) {
      const json_value *v = remove->items[i];
      if (!json_is(v, JSON_STRING)) return false;
      pw_pairs_add_copy(&e->remove, v->string, v->string_len, "", 0);
    }
  }
  return true;
}

static void edits_apply(const header_edits *e, pw_map_type map) {
  for (size_t i = 0; i < e->remove.count; i++)
    proxy_remove_header_map_value(map, e->remove.items[i].key, e->remove.items[i].key_len);
  for (size_t i = 0; i < e->add.count; i++)
    proxy_replace_header_map_value(map, e->add.items[i].key, e->add.items[i].key_len,
                                   e->add.items[i].value, e->add.items[i].value_len);
}

PW_NOOP_LIFECYCLE()

PW_EXPORT(proxy_on_configure) uint32_t on_configure(uint32_t root, uint32_t size) {
  (void)root;
  bool valid;
  json_value *cfg = pw_config_json(size, &valid);
  bool ok = valid && (cfg == NULL || cfg->type == JSON_OBJECT) &&
            edits_load(json_get(cfg, "request"), &g_request) &&
            edits_load(json_get(cfg, "response"), &g_response);
  json_free(cfg);
  if (!ok) {
    edits_clear(&g_request);
    edits_clear(&g_response);
    pw_log(PW_LOG_ERROR, "add-headers: invalid configuration");
  }
  return ok ? 1 : 0;
}

PW_EXPORT(proxy_on_request_headers) uint32_t on_request_headers(uint32_t ctx, uint32_t n, uint32_t eos) {
  (void)ctx;
  (void)n;
  (void)eos;
  edits_apply(&g_request, PW_MAP_HTTP_REQUEST_HEADERS);
  return PW_CONTINUE;
}

PW_EXPORT(proxy_on_response_headers) uint32_t on_response_headers(uint32_t ctx, uint32_t n, uint32_t eos) {
  (void)ctx;
  (void)n;
  (void)eos;
  edits_apply(&g_response, PW_MAP_HTTP_RESPONSE_HEADERS);
  return PW_CONTINUE;
}
