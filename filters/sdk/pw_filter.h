/*
 * Boilerplate the Gatehouse C filters share: no-op lifecycle exports, reading the plugin
 * configuration as JSON, owned string copies. Include this instead of json.h + proxy_wasm.h.
 */
#ifndef GATEHOUSE_PW_FILTER_H
#define GATEHOUSE_PW_FILTER_H

#include "json.h"
#include "proxy_wasm.h"

/* Exports proxy_on_context_create doing nothing (the filter keeps no state from creation). */
#define PW_NOOP_CONTEXT_CREATE()                                                              \
  PW_EXPORT(proxy_on_context_create) void on_context_create(uint32_t ctx, uint32_t parent) { \
    (void)ctx;                                                                                \
    (void)parent;                                                                             \
  }

/* Exports proxy_on_vm_start accepting any VM configuration. */
#define PW_NOOP_VM_START()                                                                \
  PW_EXPORT(proxy_on_vm_start) uint32_t on_vm_start(uint32_t root, uint32_t size) {     \
    (void)root;                                                                           \
    (void)size;                                                                           \
    return 1;                                                                             \
  }

/* Both of the above: the root lifecycle of a filter that only acts in proxy_on_configure and later. */
#define PW_NOOP_LIFECYCLE() \
  PW_NOOP_CONTEXT_CREATE()  \
  PW_NOOP_VM_START()

/* Exports proxy_on_configure accepting (and ignoring) any plugin configuration. */
#define PW_NOOP_CONFIGURE()                                                               \
  PW_EXPORT(proxy_on_configure) uint32_t on_configure(uint32_t root, uint32_t size) {   \
    (void)root;                                                                           \
    (void)size;                                                                           \
    return 1;                                                                             \
  }

/*
 * Reads the plugin configuration (size from proxy_on_configure) and parses it as JSON.
 * Returns the document to json_free, or NULL when the configuration is empty or not JSON;
 * *valid is false only for non-empty configurations that are not JSON (valid may be NULL).
 */
static inline json_value *pw_config_json(uint32_t size, bool *valid) {
  pw_bytes b;
  pw_get_plugin_config(size, &b);
  size_t len = b.len;
  const char *err = NULL;
  json_value *cfg = len ? json_parse(b.data, len, &err) : NULL;
  pw_bytes_free(&b);
  if (valid != NULL) *valid = len == 0 || (err == NULL && cfg != NULL);
  return cfg;
}

/* An owned (malloc) copy of s, or NULL for NULL. Traps when out of memory. */
static inline char *pw_strdup(const char *s) {
  if (s == NULL) return NULL;
  size_t n = strlen(s);
  char *d = (char *)malloc(n + 1);
  if (d == NULL) __builtin_trap();
  memcpy(d, s, n + 1);
  return d;
}

#endif /* GATEHOUSE_PW_FILTER_H */
