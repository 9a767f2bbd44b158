/* noop: returns Continue from every callback and does nothing else (benchmark W1). */
#include "../sdk/pw_filter.h"

PW_NOOP_LIFECYCLE()
PW_NOOP_CONFIGURE()
PW_EXPORT(proxy_on_request_headers) uint32_t on_request_headers(uint32_t ctx, uint32_t n, uint32_t eos) {
  (void)ctx;
  (void)n;
  (void)eos;
  return PW_CONTINUE;
}
PW_EXPORT(proxy_on_request_body) uint32_t on_request_body(uint32_t ctx, uint32_t size, uint32_t eos) {
  (void)ctx;
  (void)size;
  (void)eos;
  return PW_CONTINUE;
}
PW_EXPORT(proxy_on_response_headers) uint32_t on_response_headers(uint32_t ctx, uint32_t n, uint32_t eos) {
  (void)ctx;
  (void)n;
  (void)eos;
  return PW_CONTINUE;
}
PW_EXPORT(proxy_on_response_body) uint32_t on_response_body(uint32_t ctx, uint32_t size, uint32_t eos) {
  (void)ctx;
  (void)size;
  (void)eos;
  return PW_CONTINUE;
}
PW_EXPORT(proxy_on_done) uint32_t on_done(uint32_t ctx) {
  (void)ctx;
  return 1;
}
PW_EXPORT(proxy_on_log) void on_log(uint32_t ctx) { (void)ctx; }
PW_EXPORT(proxy_on_delete) void on_delete(uint32_t ctx) { (void)ctx; }
