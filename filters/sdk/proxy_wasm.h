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
 */
#ifndef GATEHOUSE_PROXY_WASM_H
#define GATEHOUSE_PROXY_WASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------------
 * ABI version selection
 * ------------------------------------------------------------------------------------------- */
#define PW_ABI_0_1_0 10
#define PW_ABI_0_2_0 20
#define PW_ABI_0_2_1 21
#ifndef PW_ABI
#define PW_ABI PW_ABI_0_2_1
#endif
#if PW_ABI != PW_ABI_0_1_0 && PW_ABI != PW_ABI_0_2_0 && PW_ABI != PW_ABI_0_2_1
#error "PW_ABI must be PW_ABI_0_1_0, PW_ABI_0_2_0 or PW_ABI_0_2_1"
#endif

#define PW_EXPORT(name) __attribute__((export_name(#name)))
#define PW_IMPORT(name) __attribute__((import_module("env"), import_name(#name)))

/* ---------------------------------------------------------------------------------------------
 * Enums (exact ABI values)
 * ------------------------------------------------------------------------------------------- */
typedef enum {
  PW_OK = 0,
  PW_NOT_FOUND = 1,
  PW_BAD_ARGUMENT = 2,
  PW_SERIALIZATION_FAILURE = 3,
  PW_PARSE_FAILURE = 4,
  PW_BAD_EXPRESSION = 5,
  PW_INVALID_MEMORY_ACCESS = 6,
  PW_EMPTY = 7,
  PW_CAS_MISMATCH = 8,
  PW_RESULT_MISMATCH = 9,
  PW_INTERNAL_FAILURE = 10,
  PW_BROKEN_CONNECTION = 11,
  PW_UNIMPLEMENTED = 12,
} pw_status;

/* Return value of header/body/trailer callbacks. */
typedef enum { PW_CONTINUE = 0, PW_PAUSE = 1 } pw_action;

typedef enum {
  PW_LOG_TRACE = 0,
  PW_LOG_DEBUG = 1,
  PW_LOG_INFO = 2,
  PW_LOG_WARN = 3,
  PW_LOG_ERROR = 4,
  PW_LOG_CRITICAL = 5,
} pw_log_level;

typedef enum {
  PW_BUFFER_HTTP_REQUEST_BODY = 0,
  PW_BUFFER_HTTP_RESPONSE_BODY = 1,
  PW_BUFFER_DOWNSTREAM_DATA = 2,
  PW_BUFFER_UPSTREAM_DATA = 3,
  PW_BUFFER_HTTP_CALL_RESPONSE_BODY = 4,
  PW_BUFFER_GRPC_CALL_MESSAGE = 5,
  PW_BUFFER_VM_CONFIGURATION = 6,     /* 0.2.x */
  PW_BUFFER_PLUGIN_CONFIGURATION = 7, /* 0.2.x */
  PW_BUFFER_FOREIGN_FUNCTION_ARGUMENTS = 8,
} pw_buffer_type;

typedef enum {
  PW_MAP_HTTP_REQUEST_HEADERS = 0,
  PW_MAP_HTTP_REQUEST_TRAILERS = 1,
  PW_MAP_HTTP_RESPONSE_HEADERS = 2,
  PW_MAP_HTTP_RESPONSE_TRAILERS = 3,
  PW_MAP_GRPC_CALL_INITIAL_METADATA = 4,
  PW_MAP_GRPC_CALL_TRAILING_METADATA = 5,
  PW_MAP_HTTP_CALL_RESPONSE_HEADERS = 6,
  PW_MAP_HTTP_CALL_RESPONSE_TRAILERS = 7,
} pw_map_type;

typedef enum {
  PW_STREAM_HTTP_REQUEST = 0,
  PW_STREAM_HTTP_RESPONSE = 1,
  PW_STREAM_DOWNSTREAM = 2,
  PW_STREAM_UPSTREAM = 3,
} pw_stream_type;

typedef enum { PW_PEER_UNKNOWN = 0, PW_PEER_LOCAL = 1, PW_PEER_REMOTE = 2 } pw_peer_type;

typedef enum { PW_METRIC_COUNTER = 0, PW_METRIC_GAUGE = 1, PW_METRIC_HISTOGRAM = 2 } pw_metric_type;

/* gRPC status "none" for proxy_send_local_response. */
#define PW_GRPC_STATUS_NONE ((int32_t)-1)

/* ---------------------------------------------------------------------------------------------
 * Host imports (module "env"). Every parameter is an i32 unless typed int64_t/uint64_t.
 * Version-specific imports are only emitted into the module when a filter references them.
 * ------------------------------------------------------------------------------------------- */
PW_IMPORT(proxy_log) pw_status proxy_log(uint32_t level, const char *msg, size_t msg_size);
PW_IMPORT(proxy_get_log_level) pw_status proxy_get_log_level(uint32_t *ret_level); /* 0.2.1 */
PW_IMPORT(proxy_get_current_time_nanoseconds)
pw_status proxy_get_current_time_nanoseconds(uint64_t *ret_time);
PW_IMPORT(proxy_set_tick_period_milliseconds)
pw_status proxy_set_tick_period_milliseconds(uint32_t period_ms);

PW_IMPORT(proxy_done) pw_status proxy_done(void);
PW_IMPORT(proxy_set_effective_context) pw_status proxy_set_effective_context(uint32_t context_id);

/* 0.1.0 only */
PW_IMPORT(proxy_get_configuration)
pw_status proxy_get_configuration(char **ret_data, size_t *ret_size);
PW_IMPORT(proxy_continue_request) pw_status proxy_continue_request(void);
PW_IMPORT(proxy_continue_response) pw_status proxy_continue_response(void);
PW_IMPORT(proxy_clear_route_cache) pw_status proxy_clear_route_cache(void);

/* 0.2.x only */
PW_IMPORT(proxy_continue_stream) pw_status proxy_continue_stream(uint32_t stream_type);
PW_IMPORT(proxy_close_stream) pw_status proxy_close_stream(uint32_t stream_type);

PW_IMPORT(proxy_get_buffer_bytes)
pw_status proxy_get_buffer_bytes(uint32_t buffer_type, uint32_t start, uint32_t max_size,
                                 char **ret_data, size_t *ret_size);
PW_IMPORT(proxy_get_buffer_status)
pw_status proxy_get_buffer_status(uint32_t buffer_type, size_t *ret_size, uint32_t *ret_flags);
PW_IMPORT(proxy_set_buffer_bytes)
pw_status proxy_set_buffer_bytes(uint32_t buffer_type, uint32_t start, uint32_t size,
                                 const char *data, size_t data_size);

PW_IMPORT(proxy_get_header_map_pairs)
pw_status proxy_get_header_map_pairs(uint32_t map_type, char **ret_data, size_t *ret_size);
PW_IMPORT(proxy_set_header_map_pairs)
pw_status proxy_set_header_map_pairs(uint32_t map_type, const char *data, size_t size);
PW_IMPORT(proxy_get_header_map_size)
pw_status proxy_get_header_map_size(uint32_t map_type, size_t *ret_size);
PW_IMPORT(proxy_get_header_map_value)
pw_status proxy_get_header_map_value(uint32_t map_type, const char *key, size_t key_size,
                                     char **ret_value, size_t *ret_size);
PW_IMPORT(proxy_add_header_map_value)
pw_status proxy_add_header_map_value(uint32_t map_type, const char *key, size_t key_size,
                                     const char *value, size_t value_size);
PW_IMPORT(proxy_replace_header_map_value)
pw_status proxy_replace_header_map_value(uint32_t map_type, const char *key, size_t key_size,
                                         const char *value, size_t value_size);
PW_IMPORT(proxy_remove_header_map_value)
pw_status proxy_remove_header_map_value(uint32_t map_type, const char *key, size_t key_size);

PW_IMPORT(proxy_send_local_response)
pw_status proxy_send_local_response(uint32_t status_code, const char *details, size_t details_size,
                                    const char *body, size_t body_size, const char *headers,
                                    size_t headers_size, int32_t grpc_status);
PW_IMPORT(proxy_get_status)
pw_status proxy_get_status(uint32_t *ret_code, char **ret_msg, size_t *ret_msg_size);

PW_IMPORT(proxy_http_call)
pw_status proxy_http_call(const char *upstream, size_t upstream_size, const char *headers,
                          size_t headers_size, const char *body, size_t body_size,
                          const char *trailers, size_t trailers_size, uint32_t timeout_ms,
                          uint32_t *ret_token);

PW_IMPORT(proxy_grpc_call)
pw_status proxy_grpc_call(const char *upstream, size_t upstream_size, const char *service,
                          size_t service_size, const char *method, size_t method_size,
                          const char *metadata, size_t metadata_size, const char *message,
                          size_t message_size, uint32_t timeout_ms, uint32_t *ret_token);
PW_IMPORT(proxy_grpc_stream)
pw_status proxy_grpc_stream(const char *upstream, size_t upstream_size, const char *service,
                            size_t service_size, const char *method, size_t method_size,
                            const char *metadata, size_t metadata_size, uint32_t *ret_token);
PW_IMPORT(proxy_grpc_send)
pw_status proxy_grpc_send(uint32_t token, const char *message, size_t message_size,
                          uint32_t end_stream);
PW_IMPORT(proxy_grpc_cancel) pw_status proxy_grpc_cancel(uint32_t token);
PW_IMPORT(proxy_grpc_close) pw_status proxy_grpc_close(uint32_t token);

PW_IMPORT(proxy_get_shared_data)
pw_status proxy_get_shared_data(const char *key, size_t key_size, char **ret_value,
                                size_t *ret_value_size, uint32_t *ret_cas);
PW_IMPORT(proxy_set_shared_data)
pw_status proxy_set_shared_data(const char *key, size_t key_size, const char *value,
                                size_t value_size, uint32_t cas);

PW_IMPORT(proxy_register_shared_queue)
pw_status proxy_register_shared_queue(const char *name, size_t name_size, uint32_t *ret_queue_id);
PW_IMPORT(proxy_resolve_shared_queue)
pw_status proxy_resolve_shared_queue(const char *vm_id, size_t vm_id_size, const char *name,
                                     size_t name_size, uint32_t *ret_queue_id);
PW_IMPORT(proxy_enqueue_shared_queue)
pw_status proxy_enqueue_shared_queue(uint32_t queue_id, const char *value, size_t value_size);
PW_IMPORT(proxy_dequeue_shared_queue)
pw_status proxy_dequeue_shared_queue(uint32_t queue_id, char **ret_value, size_t *ret_value_size);

PW_IMPORT(proxy_define_metric)
pw_status proxy_define_metric(uint32_t metric_type, const char *name, size_t name_size,
                              uint32_t *ret_metric_id);
PW_IMPORT(proxy_increment_metric) pw_status proxy_increment_metric(uint32_t metric_id, int64_t delta);
PW_IMPORT(proxy_record_metric) pw_status proxy_record_metric(uint32_t metric_id, uint64_t value);
PW_IMPORT(proxy_get_metric) pw_status proxy_get_metric(uint32_t metric_id, uint64_t *ret_value);

PW_IMPORT(proxy_get_property)
pw_status proxy_get_property(const char *path, size_t path_size, char **ret_value,
                             size_t *ret_value_size);
PW_IMPORT(proxy_set_property)
pw_status proxy_set_property(const char *path, size_t path_size, const char *value,
                             size_t value_size);

PW_IMPORT(proxy_call_foreign_function)
pw_status proxy_call_foreign_function(const char *name, size_t name_size, const char *args,
                                      size_t args_size, char **ret_results,
                                      size_t *ret_results_size);

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
 * Owned byte strings (what the host returns). data is malloc'ed (or NULL when len == 0).
 * ------------------------------------------------------------------------------------------- */
typedef struct {
  char *data;
  size_t len;
} pw_bytes;

static inline void pw_bytes_free(pw_bytes *b) {
  free(b->data);
  b->data = NULL;
  b->len = 0;
}

/* Returns a NUL-terminated malloc'ed copy (never NULL unless out of memory). */
static inline char *pw_bytes_cstr(const pw_bytes *b) {
  char *s = (char *)malloc(b->len + 1);
  if (s == NULL) return NULL;
  if (b->len) memcpy(s, b->data, b->len);
  s[b->len] = 0;
  return s;
}

static inline bool pw_bytes_eq(const pw_bytes *b, const char *s) {
  size_t n = strlen(s);
  return b->len == n && (n == 0 || memcmp(b->data, s, n) == 0);
}

/* ---------------------------------------------------------------------------------------------
 * A growable string builder (no stdio needed, so filters import nothing from WASI).
 * ------------------------------------------------------------------------------------------- */
typedef struct {
  char *data;
  size_t len;
  size_t cap;
} pw_str;

static inline void pw_str_free(pw_str *s) {
  free(s->data);
  s->data = NULL;
  s->len = s->cap = 0;
}

static inline void pw_str_reserve(pw_str *s, size_t extra) {
  if (s->len + extra + 1 <= s->cap) return;
  size_t cap = s->cap ? s->cap : 64;
  while (cap < s->len + extra + 1) cap *= 2;
  char *p = (char *)realloc(s->data, cap);
  if (p == NULL) __builtin_trap();
  s->data = p;
  s->cap = cap;
}

static inline pw_str *pw_str_addn(pw_str *s, const char *p, size_t n) {
  pw_str_reserve(s, n);
  if (n) memcpy(s->data + s->len, p, n);
  s->len += n;
  s->data[s->len] = 0;
  return s;
}

static inline pw_str *pw_str_add(pw_str *s, const char *cstr) {
  return pw_str_addn(s, cstr, strlen(cstr));
}

static inline pw_str *pw_str_addc(pw_str *s, char c) { return pw_str_addn(s, &c, 1); }

static inline pw_str *pw_str_add_u64(pw_str *s, uint64_t v) {
  char tmp[24];
  size_t i = sizeof tmp;
  do {
    tmp[--i] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  return pw_str_addn(s, tmp + i, sizeof tmp - i);
}

static inline pw_str *pw_str_add_i64(pw_str *s, int64_t v) {
  if (v < 0) {
    pw_str_addc(s, '-');
    return pw_str_add_u64(s, (uint64_t)0 - (uint64_t)v);
  }
  return pw_str_add_u64(s, (uint64_t)v);
}

static inline pw_str *pw_str_add_hex(pw_str *s, const void *p, size_t n) {
  static const char digits[] = "0123456789abcdef";
  const unsigned char *b = (const unsigned char *)p;
  for (size_t i = 0; i < n; i++) {
    pw_str_addc(s, digits[b[i] >> 4]);
    pw_str_addc(s, digits[b[i] & 15]);
  }
  return s;
}

/* Returns the current contents as a C string ("" when empty). */
static inline const char *pw_str_cstr(const pw_str *s) { return s->data ? s->data : ""; }

/* Parses an unsigned decimal; returns false on empty input or a non-digit. */
static inline bool pw_parse_u64(const char *p, size_t n, uint64_t *out) {
  uint64_t v = 0;
  if (n == 0) return false;
  for (size_t i = 0; i < n; i++) {
    if (p[i] < '0' || p[i] > '9') return false;
    v = v * 10 + (uint64_t)(p[i] - '0');
  }
  *out = v;
  return true;
}

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

/*
 * Serialized maps ("pairs"): u32 N, N x {u32 key_len, u32 value_len}, N x {key\0 value\0}.
 * pw_pairs collects entries and serializes them; pw_pairs_next iterates a serialized map.
 */
typedef struct {
  const char *key;
  size_t key_len;
  const char *value;
  size_t value_len;
} pw_pair;

typedef struct {
  pw_pair *items;
  size_t count;
  size_t cap;
} pw_pairs;

static inline void pw_pairs_add_n(pw_pairs *p, const char *k, size_t kl, const char *v, size_t vl) {
  if (p->count == p->cap) {
    size_t cap = p->cap ? p->cap * 2 : 8;
    pw_pair *items = (pw_pair *)realloc(p->items, cap * sizeof(pw_pair));
    if (items == NULL) __builtin_trap();
    p->items = items;
    p->cap = cap;
  }
  pw_pair *e = &p->items[p->count++];
  e->key = k;
  e->key_len = kl;
  e->value = v;
  e->value_len = vl;
}

/* Keys and values are borrowed: they must outlive the pw_pairs. */
static inline void pw_pairs_add(pw_pairs *p, const char *k, const char *v) {
  pw_pairs_add_n(p, k, strlen(k), v, strlen(v));
}

static inline void pw_pairs_free(pw_pairs *p) {
  free(p->items);
  p->items = NULL;
  p->count = p->cap = 0;
}

static inline void pw_put_u32(char *dst, uint32_t v) {
  dst[0] = (char)(v & 0xff);
  dst[1] = (char)((v >> 8) & 0xff);
  dst[2] = (char)((v >> 16) & 0xff);
  dst[3] = (char)((v >> 24) & 0xff);
}

static inline uint32_t pw_get_u32(const char *src) {
  const unsigned char *s = (const unsigned char *)src;
  return (uint32_t)s[0] | ((uint32_t)s[1] << 8) | ((uint32_t)s[2] << 16) | ((uint32_t)s[3] << 24);
}

/* Serializes into a malloc'ed buffer; an empty map serializes to len 0 (data NULL). */
static inline pw_bytes pw_pairs_serialize(const pw_pairs *p) {
  pw_bytes out = {NULL, 0};
  if (p->count == 0) return out;
  size_t size = 4;
  for (size_t i = 0; i < p->count; i++) size += 8 + p->items[i].key_len + 1 + p->items[i].value_len + 1;
  char *buf = (char *)malloc(size);
  if (buf == NULL) __builtin_trap();
  pw_put_u32(buf, (uint32_t)p->count);
  char *lens = buf + 4;
  char *data = buf + 4 + 8 * p->count;
  for (size_t i = 0; i < p->count; i++) {
    const pw_pair *e = &p->items[i];
    pw_put_u32(lens + 8 * i, (uint32_t)e->key_len);
    pw_put_u32(lens + 8 * i + 4, (uint32_t)e->value_len);
    memcpy(data, e->key, e->key_len);
    data += e->key_len;
    *data++ = 0;
    memcpy(data, e->value, e->value_len);
    data += e->value_len;
    *data++ = 0;
  }
  out.data = buf;
  out.len = size;
  return out;
}

/* Iterator over a serialized map: it = pw_pairs_iter_init(buf, len); while (pw_pairs_next(&it, &p))
 * ... Stops at the end or on malformed input. */
typedef struct {
  const char *buf;
  size_t len;
  uint32_t count;
  uint32_t index;
  size_t data_off;
} pw_pairs_iter;

static inline pw_pairs_iter pw_pairs_iter_init(const char *buf, size_t len) {
  pw_pairs_iter it = {buf, len, 0, 0, 0};
  if (len >= 4) {
    it.count = pw_get_u32(buf);
    if ((size_t)it.count > (len - 4) / 8) it.count = 0;
    it.data_off = 4 + 8 * (size_t)it.count;
  }
  return it;
}

static inline bool pw_pairs_next(pw_pairs_iter *it, pw_pair *out) {
  if (it->index >= it->count) return false;
  const char *lens = it->buf + 4 + 8 * (size_t)it->index;
  size_t kl = pw_get_u32(lens), vl = pw_get_u32(lens + 4);
  if (it->data_off + kl + 1 + vl + 1 > it->len) return false;
  out->key = it->buf + it->data_off;
  out->key_len = kl;
  out->value = out->key + kl + 1;
  out->value_len = vl;
  it->data_off += kl + 1 + vl + 1;
  it->index++;
  return true;
}

/* Owned variant: copies key and value (free with pw_pairs_free_owned). */
static inline void pw_pairs_add_copy(pw_pairs *p, const char *k, size_t kl, const char *v, size_t vl) {
  char *kc = (char *)malloc(kl + 1), *vc = (char *)malloc(vl + 1);
  if (kc == NULL || vc == NULL) __builtin_trap();
  if (kl) memcpy(kc, k, kl);
  if (vl) memcpy(vc, v, vl);
  kc[kl] = 0;
  vc[vl] = 0;
  pw_pairs_add_n(p, kc, kl, vc, vl);
}

static inline void pw_pairs_free_owned(pw_pairs *p) {
  for (size_t i = 0; i < p->count; i++) {
    free((void *)p->items[i].key);
    free((void *)p->items[i].value);
  }
  pw_pairs_free(p);
}

/* ---------------------------------------------------------------------------------------------
 * Per-context state: a small id -> pointer table (linear scan; a VM has few live contexts).
 * ------------------------------------------------------------------------------------------- */
typedef struct {
  uint32_t id;
  void *data;
} pw_ctx_entry;

typedef struct {
  pw_ctx_entry *items;
  size_t count;
  size_t cap;
} pw_ctx_map;

static inline void *pw_ctx_get(const pw_ctx_map *m, uint32_t id) {
  for (size_t i = 0; i < m->count; i++)
    if (m->items[i].id == id) return m->items[i].data;
  return NULL;
}

static inline void pw_ctx_put(pw_ctx_map *m, uint32_t id, void *data) {
  for (size_t i = 0; i < m->count; i++)
    if (m->items[i].id == id) {
      m->items[i].data = data;
      return;
    }
  if (m->count == m->cap) {
    size_t cap = m->cap ? m->cap * 2 : 16;
    pw_ctx_entry *items = (pw_ctx_entry *)realloc(m->items, cap * sizeof(pw_ctx_entry));
    if (items == NULL) __builtin_trap();
    m->items = items;
    m->cap = cap;
  }
  m->items[m->count].id = id;
  m->items[m->count].data = data;
  m->count++;
}

/* Removes the entry and returns its data (NULL if absent); the caller frees it. */
static inline void *pw_ctx_take(pw_ctx_map *m, uint32_t id) {
  for (size_t i = 0; i < m->count; i++)
    if (m->items[i].id == id) {
      void *d = m->items[i].data;
      m->items[i] = m->items[--m->count];
      return d;
    }
  return NULL;
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

/* Plugin configuration (call from proxy_on_configure). */
static inline pw_status pw_get_plugin_config(size_t size_hint, pw_bytes *out) {
  out->data = NULL;
  out->len = 0;
#if PW_ABI == PW_ABI_0_1_0
  (void)size_hint;
  return proxy_get_configuration(&out->data, &out->len);
#else
  if (size_hint == 0) return PW_OK;
  return proxy_get_buffer_bytes(PW_BUFFER_PLUGIN_CONFIGURATION, 0, (uint32_t)size_hint, &out->data,
                                &out->len);
#endif
}

/* VM configuration (call from proxy_on_vm_start). */
static inline pw_status pw_get_vm_config(size_t size_hint, pw_bytes *out) {
  out->data = NULL;
  out->len = 0;
#if PW_ABI == PW_ABI_0_1_0
  (void)size_hint;
  return proxy_get_configuration(&out->data, &out->len);
#else
  if (size_hint == 0) return PW_OK;
  return proxy_get_buffer_bytes(PW_BUFFER_VM_CONFIGURATION, 0, (uint32_t)size_hint, &out->data,
                                &out->len);
#endif
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
 * Atomically increments a decimal counter stored in shared data with a get / set(cas) loop.
 * Returns the new value, or 0 if the host keeps refusing (after 64 attempts) or fails.
 */
static inline uint64_t pw_shared_increment(const char *key, uint64_t delta) {
  for (int attempt = 0; attempt < 64; attempt++) {
    pw_bytes cur;
    uint32_t cas = 0;
    uint64_t value = 0;
    pw_status s = pw_get_shared(key, &cur, &cas);
    if (s == PW_OK) {
      if (!pw_parse_u64(cur.data, cur.len, &value)) value = 0;
    } else if (s != PW_NOT_FOUND) {
      pw_bytes_free(&cur);
      return 0;
    }
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
