/* bench-headers: adds request headers x-bench-1: 1 and x-bench-2: 2, and response header
 * x-bench: 1 (benchmark W2). No configuration, no logging. */
#include "../sdk/pw_filter.h"

PW_NOOP_LIFECYCLE()
PW_NOOP_CONFIGURE()
PW_EXPORT(proxy_on_request_headers) uint32_t on_request_headers(uint32_t ctx, uint32_t n, uint32_t eos) {
  (void)ctx;
  (void)n;
  (void)eos;
  proxy_add_header_map_value(PW_MAP_HTTP_REQUEST_HEADERS, "x-bench-1", 9, "1", 1);
  proxy_add_header_map_value(PW_MAP_HTTP_REQUEST_HEADERS, "x-bench-2", 9, "2", 1);
  return PW_CONTINUE;
}
PW_EXPORT(proxy_on_response_headers) uint32_t on_response_headers(uint32_t ctx, uint32_t n, uint32_t eos) {
  (void)ctx;
  (void)n;
  (void)eos;
  proxy_add_header_map_value(PW_MAP_HTTP_RESPONSE_HEADERS, "x-bench", 7, "1", 1);
  return PW_CONTINUE;
}
