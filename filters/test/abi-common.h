/*
 * Shared body of the abi-0-1-0 / abi-0-2-0 / abi-0-2-1 test filters. Each .c file sets PW_ABI and
 * includes this file; the callbacks use the signatures of that ABI version. Behaviour
 * (documented in filters/test/README.md):
 *  - request headers: adds "x-abi-version: <version>";
 *  - response headers: adds "x-abi-version: <version>", "x-abi-missing-status: <status of looking
 *    up the absent response header x-abi-missing>" (0.1.0 hosts answer OK=0, 0.2.x NOT_FOUND=1),
 *    "x-abi-config: <plugin configuration text>" when it is non-empty (read with
 *    proxy_get_configuration on 0.1.0, buffer PLUGIN_CONFIGURATION on 0.2.x) and, on 0.2.1 only,
 *    "x-abi-log-level: <proxy_get_log_level result>".
 */
#ifndef ABI_COMMON_H
#define ABI_COMMON_H

#include "../sdk/proxy_wasm.h"

#if PW_ABI == PW_ABI_0_1_0
#define ABI_TEXT "0.1.0"
#elif PW_ABI == PW_ABI_0_2_0
#define ABI_TEXT "0.2.0"
#else
#define ABI_TEXT "0.2.1"
#endif

static pw_bytes g_config;

PW_EXPORT(proxy_on_context_create) void on_context_create(uint32_t ctx, uint32_t parent) {
  (void)ctx;
  (void)parent;
}

PW_EXPORT(proxy_on_vm_start) uint32_t on_vm_start(uint32_t root, uint32_t size) {
  (void)root;
  (void)size;
  return 1;
}

PW_EXPORT(proxy_on_configure) uint32_t on_configure(uint32_t root, uint32_t size) {
  (void)root;
  pw_bytes_free(&g_config);
  pw_get_plugin_config(size, &g_config);
  pw_log(PW_LOG_INFO, "abi " ABI_TEXT ": configured");
  return 1;
}

static uint32_t request_headers(void) {
  pw_add_header(PW_MAP_HTTP_REQUEST_HEADERS, "x-abi-version", ABI_TEXT);
  return PW_CONTINUE;
}

static void set_u64(const char *name, uint64_t v) {
  pw_str s = {0};
  pw_str_add_u64(&s, v);
  pw_set_header_n(PW_MAP_HTTP_RESPONSE_HEADERS, name, s.data, s.len);
  pw_str_free(&s);
}

static uint32_t response_headers(void) {
  pw_add_header(PW_MAP_HTTP_RESPONSE_HEADERS, "x-abi-version", ABI_TEXT);
  pw_bytes missing;
  pw_status s = pw_get_header(PW_MAP_HTTP_RESPONSE_HEADERS, "x-abi-missing", &missing);
  pw_bytes_free(&missing);
  set_u64("x-abi-missing-status", (uint64_t)s);
  if (g_config.len > 0)
    pw_set_header_n(PW_MAP_HTTP_RESPONSE_HEADERS, "x-abi-config", g_config.data, g_config.len);
#if PW_ABI == PW_ABI_0_2_1
  uint32_t level = 0;
  if (proxy_get_log_level(&level) == PW_OK) set_u64("x-abi-log-level", level);
#endif
  return PW_CONTINUE;
}

#if PW_ABI == PW_ABI_0_1_0
PW_EXPORT(proxy_on_request_headers) uint32_t on_request_headers(uint32_t ctx, uint32_t n) {
  (void)ctx;
  (void)n;
  return request_headers();
}
PW_EXPORT(proxy_on_response_headers) uint32_t on_response_headers(uint32_t ctx, uint32_t n) {
  (void)ctx;
  (void)n;
  return response_headers();
}
#else
PW_EXPORT(proxy_on_request_headers) uint32_t on_request_headers(uint32_t ctx, uint32_t n, uint32_t eos) {
  (void)ctx;
  (void)n;
  (void)eos;
  return request_headers();
}
PW_EXPORT(proxy_on_response_headers) uint32_t on_response_headers(uint32_t ctx, uint32_t n, uint32_t eos) {
  (void)ctx;
  (void)n;
  (void)eos;
  return response_headers();
}
#endif

#endif
