/*
 * wasi: exercises the WASI preview1 imports a host must provide (fd_write to stdout/stderr and a
 * bad fd, clock_time_get, random_get, environ_sizes_get/environ_get, args_sizes_get, proc_exit)
 * by calling them directly (no libc stdio) and reporting results as response headers.
 * See filters/test/README.md for the contract.
 */
#include <wasi/api.h>

#include "../sdk/pw_filter.h"

static int32_t g_exit_on_configure = -1;

static void set_u64(const char *name, uint64_t v) {
  pw_str s = {0};
  pw_str_add_u64(&s, v);
  pw_set_header_n(PW_MAP_HTTP_RESPONSE_HEADERS, name, s.data, s.len);
  pw_str_free(&s);
}

static __wasi_errno_t write_fd(__wasi_fd_t fd, const char *text) {
  __wasi_ciovec_t iov = {(const uint8_t *)text, strlen(text)};
  __wasi_size_t written = 0;
  return __wasi_fd_write(fd, &iov, 1, &written);
}

PW_NOOP_LIFECYCLE()

PW_EXPORT(proxy_on_configure) uint32_t on_configure(uint32_t root, uint32_t size) {
  (void)root;
  json_value *cfg = pw_config_json(size, NULL);
  const json_value *code = json_get(cfg, "exit_on_configure");
  if (json_is(code, JSON_NUMBER)) g_exit_on_configure = (int32_t)json_number_word(code->number);
  json_free(cfg);
  if (write_fd(1, "wasi: configure on stdout\n") != 0) return 0;
  if (g_exit_on_configure >= 0) __wasi_proc_exit((__wasi_exitcode_t)g_exit_on_configure);
  return 1;
}

PW_EXPORT(proxy_on_request_headers) uint32_t on_request_headers(uint32_t ctx, uint32_t n, uint32_t eos) {
  (void)ctx;
  (void)n;
  (void)eos;
  pw_bytes v;
  if (pw_get_header(PW_MAP_HTTP_REQUEST_HEADERS, "x-wasi-exit", &v) == PW_OK) {
    uint64_t code = 0;
    pw_parse_u64(v.data, v.len, &code);
    __wasi_proc_exit((__wasi_exitcode_t)code);
  }
  pw_bytes_free(&v);
  return PW_CONTINUE;
}

static void report_environ(void) {
  __wasi_size_t count = 0, size = 0;
  __wasi_errno_t e = __wasi_environ_sizes_get(&count, &size);
  set_u64("x-wasi-environ-errno", e);
  if (e != 0) return;
  set_u64("x-wasi-environ-count", count);
  set_u64("x-wasi-environ-size", size);
  uint8_t **ptrs = (uint8_t **)malloc((count + 1) * sizeof(uint8_t *));
  uint8_t *buf = (uint8_t *)malloc(size + 1);
  if (ptrs == NULL || buf == NULL) __builtin_trap();
  if (__wasi_environ_get(ptrs, buf) == 0) {
    for (size_t i = 0; i < count; i++) {
      const char *entry = (const char *)ptrs[i];
      const char *eq = strchr(entry, '=');
      if (eq == NULL) continue;
      pw_str name = {0};
      pw_str_add(&name, "x-wasi-env-");
      for (const char *p = entry; p < eq; p++) pw_str_addc(&name, (*p >= 'A' && *p <= 'Z') ? (char)(*p + 32) : *p);
      pw_set_header(PW_MAP_HTTP_RESPONSE_HEADERS, pw_str_cstr(&name), eq + 1);
      pw_str_free(&name);
    }
  }
  free(ptrs);
  free(buf);
}

PW_EXPORT(proxy_on_response_headers) uint32_t on_response_headers(uint32_t ctx, uint32_t n, uint32_t eos) {
  (void)ctx;
  (void)n;
  (void)eos;
  set_u64("x-wasi-stdout-errno", write_fd(1, "wasi: hello from stdout\n"));
  set_u64("x-wasi-stderr-errno", write_fd(2, "wasi: hello from stderr\n"));
  set_u64("x-wasi-badfd-errno", write_fd(7, "nobody listens on fd 7\n"));

  __wasi_timestamp_t t = 0;
  __wasi_errno_t e = __wasi_clock_time_get(__WASI_CLOCKID_REALTIME, 1, &t);
  set_u64(e == 0 ? "x-wasi-realtime-ns" : "x-wasi-realtime-errno", e == 0 ? t : e);
  e = __wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &t);
  set_u64(e == 0 ? "x-wasi-monotonic-ns" : "x-wasi-monotonic-errno", e == 0 ? t : e);

  uint8_t rnd[16];
  e = __wasi_random_get(rnd, sizeof rnd);
  if (e == 0) {
    pw_str hex = {0};
    pw_str_add_hex(&hex, rnd, sizeof rnd);
    pw_set_header(PW_MAP_HTTP_RESPONSE_HEADERS, "x-wasi-random", pw_str_cstr(&hex));
    pw_str_free(&hex);
  } else {
    set_u64("x-wasi-random-errno", e);
  }
  uint8_t *big = (uint8_t *)malloc(70000);
  if (big == NULL) __builtin_trap();
  set_u64("x-wasi-random-large-errno", __wasi_random_get(big, 70000));
  free(big);

  report_environ();

  __wasi_size_t argc = 0, argv_size = 0;
  e = __wasi_args_sizes_get(&argc, &argv_size);
  set_u64(e == 0 ? "x-wasi-args-count" : "x-wasi-args-errno", e == 0 ? argc : e);
  return PW_CONTINUE;
}
