/* chaos: misbehaves on demand, chosen per request by the request header `x-chaos`, so one route can
 * carry misbehaving and well-behaved requests at once (trap storms, spinning callbacks):
 *   x-chaos: proc_exit  -> proxy_on_request_headers calls WASI proc_exit(1) (a trap inside a callback)
 *   x-chaos: trap       -> proxy_on_request_headers executes `unreachable`
 *   x-chaos: spin       -> proxy_on_request_headers loops until the host's deadline stops it
 * Any other request continues and gets response header `x-chaos: ok`. No configuration, no logging. */
#include <wasi/api.h>

#include "../sdk/pw_filter.h"

PW_NOOP_LIFECYCLE()
PW_NOOP_CONFIGURE()

static bool header_is(const pw_bytes *v, const char *s) {
  size_t n = strlen(s);
  return v->len == n && memcmp(v->data, s, n) == 0;
}

PW_EXPORT(proxy_on_request_headers) uint32_t on_request_headers(uint32_t ctx, uint32_t n, uint32_t eos) {
  (void)ctx, (void)n, (void)eos;
  pw_bytes v;
  if (pw_get_header(PW_MAP_HTTP_REQUEST_HEADERS, "x-chaos", &v) != PW_OK) return PW_CONTINUE;
  bool exit = header_is(&v, "proc_exit"), trap = header_is(&v, "trap"), spin = header_is(&v, "spin");
  pw_bytes_free(&v);
  if (exit) __wasi_proc_exit(1);
  if (trap) __builtin_trap();
  if (spin) {
    volatile uint32_t i = 0;
    for (;;) i++;
  }
  return PW_CONTINUE;
}

PW_EXPORT(proxy_on_response_headers) uint32_t on_response_headers(uint32_t ctx, uint32_t n, uint32_t eos) {
  (void)ctx, (void)n, (void)eos;
  pw_set_header(PW_MAP_HTTP_RESPONSE_HEADERS, "x-chaos", "ok");
  return PW_CONTINUE;
}
