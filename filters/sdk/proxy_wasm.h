/*
 * proxy_wasm.h - a small, header-only C SDK for the Proxy-Wasm ABI (0.1.0, 0.2.0, 0.2.1).
 *
 * Gatehouse's own test and example filters are written against this header. It is deliberately
 * thin: the raw host imports (exact names and signatures of the ABI), the enums with their exact
 * values, and a handful of helpers (owned byte strings, header maps, buffers, properties, shared
 * data, logging) that hide the "host allocates, guest frees" return protocol.
 *
 * Usage (one translation unit per filter):
 *
 *     #define PW_ABI PW_ABI_0_2_1          // optional; 0.2.1 is the default
 *     #include "proxy_wasm.h"
 *
 *     PW_EXPORT(proxy_on_request_headers)
 *     uint32_t on_req(uint32_t ctx, uint32_t headers, uint32_t eos) { ... return PW_CONTINUE; }
 *
 * Including the header also emits the two exports every filter needs: the ABI marker
 * (`proxy_abi_version_X_Y_Z`, selected by PW_ABI) and `proxy_on_memory_allocate` backed by malloc.
 * Define PW_NO_SDK_EXPORTS before including to suppress them (e.g. in a second translation unit).
 *
 * Build: clang --target=wasm32-wasi -mexec-model=reactor -O2 -o f.wasm f.c  (see filters/build.sh)
 *
 * Layout: proxy_wasm_abi.h (enums + raw imports), pw_types.h (byte strings, string builder,
 * serialized maps, per-context table; no host calls), this file (exports + host-call helpers).
 */
#ifndef GATEHOUSE_PROXY_WASM_H
#define GATEHOUSE_PROXY_WASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxy_wasm_abi.h"
#include "pw_types.h"

/* ---------------------------------------------------------------------------------------------
 * SDK exports: ABI marker and allocator
 * ------------------------------------------------------------------------------------------- */
#ifndef PW_NO_SDK_EXPORTS
#if PW_ABI == PW_ABI_0_1_0
PW_EXPORT(proxy_abi_version_0_1_0) void proxy_abi_version_0_1_0(void) {}
#elif PW_ABI == PW_ABI_0_2_0
PW_EXPORT(proxy_abi_version_0_2_0) void proxy_abi_version_0_2_0(void) {}
#else
PW_EXPORT(proxy_abi_version_0_2_1) void proxy_abi_version_0_2_1(void) {}
#endif
/* The host calls this to hand variable-size results to the guest; the guest frees them. */
PW_EXPORT(proxy_on_memory_allocate) void *proxy_on_memory_allocate(size_t size) {
  return malloc(size);
}
#endif

/* ---------------------------------------------------------------------------------------------
 * Logging
 * ------------------------------------------------------------------------------------------- */
static inline pw_status pw_logn(pw_log_level level, const char *msg, size_t n) {
  return proxy_log((uint32_t)level, msg, n);
}
static inline pw_status pw_log(pw_log_level level, const char *msg) {
  return proxy_log((uint32_t)level, msg, strlen(msg));
}
static inline pw_status pw_log_str(pw_log_level level, const pw_str *s) {
  return proxy_log((uint32_t)level, pw_str_cstr(s), s->len);
}
#define pw_info(msg) pw_log(PW_LOG_INFO, (msg))
#define pw_warn(msg) pw_log(PW_LOG_WARN, (msg))
#define pw_error(msg) pw_log(PW_LOG_ERROR, (msg))

/* ---------------------------------------------------------------------------------------------
 * Header maps
 * ------------------------------------------------------------------------------------------- */
static inline pw_status pw_get_header(pw_map_type map, const char *name, pw_bytes *out) {
  out->data = NULL;
  out->len = 0;
  return proxy_get_header_map_value((uint32_t)map, name, strlen(name), &out->data, &out->len);
}
/* Replaces every value of `name` with `value`. */
static inline pw_status pw_set_header(pw_map_type map, const char *name, const char *value) {
  return proxy_replace_header_map_value((uint32_t)map, name, strlen(name), value, strlen(value));
}
static inline pw_status pw_set_header_n(pw_map_type map, const char *name, const char *value,
                                        size_t value_len) {
  return proxy_replace_header_map_value((uint32_t)map, name, strlen(name), value, value_len);
}
/* Appends a value (multi-valued headers allowed). */
static inline pw_status pw_add_header(pw_map_type map, const char *name, const char *value) {
  return proxy_add_header_map_value((uint32_t)map, name, strlen(name), value, strlen(value));
}
static inline pw_status pw_remove_header(pw_map_type map, const char *name) {
  return proxy_remove_header_map_value((uint32_t)map, name, strlen(name));
}
static inline pw_status pw_get_header_pairs(pw_map_type map, pw_bytes *out) {
  out->data = NULL;
  out->len = 0;
  return proxy_get_header_map_pairs((uint32_t)map, &out->data, &out->len);
}

/* ---------------------------------------------------------------------------------------------
 * Buffers and configuration
 * ------------------------------------------------------------------------------------------- */
static inline pw_status pw_get_buffer(pw_buffer_type type, size_t start, size_t max, pw_bytes *out) {
  out->data = NULL;
  out->len = 0;
  return proxy_get_buffer_bytes((uint32_t)type, (uint32_t)start, (uint32_t)max, &out->data,
                                &out->len);
}
/* Replaces the whole buffer content with data. */
static inline pw_status pw_replace_buffer(pw_buffer_type type, size_t old_len, const char *data,
                                          size_t len) {
  return proxy_set_buffer_bytes((uint32_t)type, 0, (uint32_t)old_len, data, len);
}

/* A configuration buffer: 0.1.0 has one getter whose answer depends on the callback it is called from. */
static inline pw_status pw_get_config_(pw_buffer_type type, size_t size_hint, pw_bytes *out) {
  out->data = NULL;
  out->len = 0;
#if PW_ABI == PW_ABI_0_1_0
  (void)type;
  (void)size_hint;
  return proxy_get_configuration(&out->data, &out->len);
#else
  if (size_hint == 0) return PW_OK;
  return proxy_get_buffer_bytes((uint32_t)type, 0, (uint32_t)size_hint, &out->data, &out->len);
#endif
}

/* Plugin configuration (call from proxy_on_configure). */
static inline pw_status pw_get_plugin_config(size_t size_hint, pw_bytes *out) {
  return pw_get_config_(PW_BUFFER_PLUGIN_CONFIGURATION, size_hint, out);
}

/* VM configuration (call from proxy_on_vm_start). */
static inline pw_status pw_get_vm_config(size_t size_hint, pw_bytes *out) {
  return pw_get_config_(PW_BUFFER_VM_CONFIGURATION, size_hint, out);
}

/* ---------------------------------------------------------------------------------------------
 * Stream control
 * ------------------------------------------------------------------------------------------- */
static inline pw_status pw_continue_request(void) {
#if PW_ABI == PW_ABI_0_1_0
  return proxy_continue_request();
#else
  return proxy_continue_stream(PW_STREAM_HTTP_REQUEST);
#endif
}
static inline pw_status pw_continue_response(void) {
#if PW_ABI == PW_ABI_0_1_0
  return proxy_continue_response();
#else
  return proxy_continue_stream(PW_STREAM_HTTP_RESPONSE);
#endif
}

/* Sends a local response. headers may be NULL. */
static inline pw_status pw_send_local_response(uint32_t status, const char *body, size_t body_len,
                                               const pw_pairs *headers, const char *details) {
  pw_bytes h = {NULL, 0};
  if (headers) h = pw_pairs_serialize(headers);
  const char *d = details ? details : "";
  pw_status s = proxy_send_local_response(status, d, strlen(d), body, body_len, h.data, h.len,
                                          PW_GRPC_STATUS_NONE);
  pw_bytes_free(&h);
  return s;
}

/* ---------------------------------------------------------------------------------------------
 * Properties. Paths are segments joined by NUL; pw_get_property takes a dotted path
 * ("request.path") and converts every '.' to a NUL segment separator.
 * ------------------------------------------------------------------------------------------- */
static inline pw_status pw_get_property_raw(const char *path, size_t path_len, pw_bytes *out) {
  out->data = NULL;
  out->len = 0;
  return proxy_get_property(path, path_len, &out->data, &out->len);
}

static inline pw_status pw_get_property(const char *dotted, pw_bytes *out) {
  size_t n = strlen(dotted);
  char *path = (char *)malloc(n + 1);
  if (path == NULL) __builtin_trap();
  for (size_t i = 0; i < n; i++) path[i] = dotted[i] == '.' ? '\0' : dotted[i];
  pw_status s = pw_get_property_raw(path, n, out);
  free(path);
  return s;
}

static inline pw_status pw_set_property(const char *dotted, const char *value, size_t value_len) {
  size_t n = strlen(dotted);
  char *path = (char *)malloc(n + 1);
  if (path == NULL) __builtin_trap();
  for (size_t i = 0; i < n; i++) path[i] = dotted[i] == '.' ? '\0' : dotted[i];
  pw_status s = proxy_set_property(path, n, value, value_len);
  free(path);
  return s;
}

/* ---------------------------------------------------------------------------------------------
 * Shared data and metrics
 * ------------------------------------------------------------------------------------------- */
static inline pw_status pw_get_shared(const char *key, pw_bytes *out, uint32_t *cas) {
  out->data = NULL;
  out->len = 0;
  *cas = 0;
  return proxy_get_shared_data(key, strlen(key), &out->data, &out->len, cas);
}

static inline pw_status pw_set_shared(const char *key, const char *value, size_t len, uint32_t cas) {
  return proxy_set_shared_data(key, strlen(key), value, len, cas);
}

/*
 * Creates `key` with value "0" if it does not exist yet (get, then an unconditional set only on
 * NOT_FOUND). Call it where no request runs yet, e.g. proxy_on_configure. Returns false if the
 * host fails. See pw_shared_increment for why.
 */
static inline bool pw_shared_seed(const char *key) {
  pw_bytes cur;
  uint32_t cas = 0;
  pw_status s = pw_get_shared(key, &cur, &cas);
  pw_bytes_free(&cur);
  if (s == PW_OK) return true;
  return s == PW_NOT_FOUND && pw_set_shared(key, "0", 1, 0) == PW_OK;
}

/*
 * Increments a decimal counter stored in shared data with a get / set(cas) loop; returns the new
 * value, or 0 if the host keeps refusing (after 64 attempts) or fails.
 *
 * Exact (no increment lost) once the key exists: every write carries the cas its get returned,
 * so a concurrent writer makes it fail with CAS_MISMATCH and it retries. Creating the key is not
 * atomic under the Envoy semantics Gatehouse implements (cas 0 = unconditional; a set on an
 * absent key succeeds whatever the cas), so a count is never written with cas 0: an absent key is
 * first seeded with "0" (pw_shared_seed) and the loop goes on with the seeded cas. What remains is
 * the creation window itself — if two VMs find the key absent at the same moment, a late seed can
 * reset increments made in between — so filters seed their keys in proxy_on_configure, before
 * any request (request-counter does).
 */
static inline uint64_t pw_shared_increment(const char *key, uint64_t delta) {
  for (int attempt = 0; attempt < 64; attempt++) {
    pw_bytes cur;
    uint32_t cas = 0;
    uint64_t value = 0;
    pw_status s = pw_get_shared(key, &cur, &cas);
    if (s == PW_NOT_FOUND) {
      if (!pw_shared_seed(key)) return 0;
      continue;
    }
    if (s != PW_OK) {
      pw_bytes_free(&cur);
      return 0;
    }
    if (!pw_parse_u64(cur.data, cur.len, &value)) value = 0;
    pw_bytes_free(&cur);
    value += delta;
    pw_str text = {0};
    pw_str_add_u64(&text, value);
    s = pw_set_shared(key, text.data, text.len, cas);
    pw_str_free(&text);
    if (s == PW_OK) return value;
    if (s != PW_CAS_MISMATCH) return 0;
  }
  return 0;
}

static inline pw_status pw_define_metric(pw_metric_type type, const char *name, uint32_t *id) {
  return proxy_define_metric((uint32_t)type, name, strlen(name), id);
}

#endif /* GATEHOUSE_PROXY_WASM_H */
