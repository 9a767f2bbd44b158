/*
 * trailers: shows what reaches proxy_on_request_trailers / proxy_on_response_trailers.
 *  - request trailers: remembers (per context) their count, the value of "x-client-trailer" and the status of
 *    an attempt to add one (the host keeps request trailers read-only);
 *  - response headers: when request trailers were seen, adds "x-filter-request-trailer: <value>",
 *    "x-filter-request-trailer-count: <n>" and "x-filter-request-trailer-write: <status>";
 *  - response trailers: adds "x-filter-trailer-count: <n>", "x-filter-saw: <value of grpc-status>" and replaces
 *    "x-upstream-note" with "changed by filter".
 */
#include "../sdk/pw_filter.h"

#define SLOTS 16

typedef struct {
  uint32_t ctx;
  uint32_t count;
  pw_status write;
  pw_bytes value;
} seen_request;

static seen_request g_seen[SLOTS];

static seen_request *slot(uint32_t ctx, bool create) {
  for (int i = 0; i < SLOTS; i++)
    if (g_seen[i].ctx == ctx) return &g_seen[i];
  if (!create) return NULL;
  for (int i = 0; i < SLOTS; i++)
    if (g_seen[i].ctx == 0) {
      g_seen[i].ctx = ctx;
      return &g_seen[i];
    }
  __builtin_trap();
}

static void set_u64(pw_map_type map, const char *name, uint64_t v) {
  pw_str s = {0};
  pw_str_add_u64(&s, v);
  pw_set_header_n(map, name, s.data, s.len);
  pw_str_free(&s);
}

PW_NOOP_LIFECYCLE()
PW_NOOP_CONFIGURE()

PW_EXPORT(proxy_on_request_trailers) uint32_t on_request_trailers(uint32_t ctx, uint32_t n) {
  seen_request *s = slot(ctx, true);
  s->count = n;
  pw_get_header(PW_MAP_HTTP_REQUEST_TRAILERS, "x-client-trailer", &s->value);
  s->write = pw_add_header(PW_MAP_HTTP_REQUEST_TRAILERS, "x-added", "1");
  return PW_CONTINUE;
}

PW_EXPORT(proxy_on_response_headers) uint32_t on_response_headers(uint32_t ctx, uint32_t n, uint32_t eos) {
  (void)n;
  (void)eos;
  seen_request *s = slot(ctx, false);
  if (s != NULL) {
    pw_set_header_n(PW_MAP_HTTP_RESPONSE_HEADERS, "x-filter-request-trailer", s->value.data, s->value.len);
    set_u64(PW_MAP_HTTP_RESPONSE_HEADERS, "x-filter-request-trailer-count", s->count);
    set_u64(PW_MAP_HTTP_RESPONSE_HEADERS, "x-filter-request-trailer-write", (uint64_t)s->write);
  }
  return PW_CONTINUE;
}

PW_EXPORT(proxy_on_response_trailers) uint32_t on_response_trailers(uint32_t ctx, uint32_t n) {
  (void)ctx;
  set_u64(PW_MAP_HTTP_RESPONSE_TRAILERS, "x-filter-trailer-count", n);
  pw_bytes status;
  if (pw_get_header(PW_MAP_HTTP_RESPONSE_TRAILERS, "grpc-status", &status) == PW_OK)
    pw_set_header_n(PW_MAP_HTTP_RESPONSE_TRAILERS, "x-filter-saw", status.data, status.len);
  pw_bytes_free(&status);
  pw_set_header(PW_MAP_HTTP_RESPONSE_TRAILERS, "x-upstream-note", "changed by filter");
  return PW_CONTINUE;
}

PW_EXPORT(proxy_on_done) uint32_t on_done(uint32_t ctx) {
  seen_request *s = slot(ctx, false);
  if (s != NULL) {
    pw_bytes_free(&s->value);
    *s = (seen_request){0};
  }
  return 1;
}
PW_EXPORT(proxy_on_log) void on_log(uint32_t ctx) { (void)ctx; }
PW_EXPORT(proxy_on_delete) void on_delete(uint32_t ctx) { (void)ctx; }
