/* phases_state.h - part of the phases test filter (included by phases.c only): phase ids, the
 * per-root / per-HTTP-context / per-call state, and logging helpers. */
#ifndef PHASES_STATE_H
#define PHASES_STATE_H

#include "../sdk/pw_filter.h"

/* ---- phases ---------------------------------------------------------------------------------- */
typedef enum {
  PH_VM_START,
  PH_CONFIGURE,
  PH_TICK,
  PH_QUEUE_READY,
  PH_FOREIGN_FUNCTION,
  PH_HTTP_CALL_RESPONSE,
  PH_REQUEST_HEADERS,
  PH_REQUEST_BODY,
  PH_REQUEST_TRAILERS,
  PH_RESPONSE_HEADERS,
  PH_RESPONSE_BODY,
  PH_RESPONSE_TRAILERS,
  PH_DONE,
  PH_LOG,
} phase_id;

static const char *const PHASE_NAMES[] = {
    "vm_start",        "configure",         "tick",          "queue_ready",
    "foreign_function", "http_call_response", "request_headers", "request_body",
    "request_trailers", "response_headers",  "response_body", "response_trailers",
    "done",             "log",
};

static bool phase_is_bool(phase_id p) { return p == PH_VM_START || p == PH_CONFIGURE || p == PH_DONE; }
static bool phase_is_request(phase_id p) {
  return p == PH_REQUEST_HEADERS || p == PH_REQUEST_BODY || p == PH_REQUEST_TRAILERS ||
         p == PH_HTTP_CALL_RESPONSE;
}

/* ---- state ----------------------------------------------------------------------------------- */
typedef struct {
  uint32_t id;
  json_value *config; /* plugin configuration (NULL = empty) */
  char *tag;
  bool log_phases;
} root_ctx;

typedef struct {
  char *name;
  char *value;
} owned_header;

typedef struct {
  uint32_t id;
  uint32_t root_id;
  int paused_stream; /* -1 = not paused by a "pause" action, else pw_stream_type */
  owned_header *pending; /* response headers to add in on_response_headers */
  size_t pending_count;
} http_ctx;

typedef struct {
  uint32_t token;
  uint32_t context_id; /* HTTP context, or the root id for calls made from root phases */
  bool from_root;
  int stream;          /* stream to continue */
  char then[16];
} pending_call;

#define MAX_ROOTS 16
static root_ctx g_roots[MAX_ROOTS];
static size_t g_root_count;
static http_ctx *g_https;
static size_t g_http_count, g_http_cap;
static pending_call *g_calls;
static size_t g_call_count, g_call_cap;

static root_ctx *find_root(uint32_t id) {
  for (size_t i = 0; i < g_root_count; i++)
    if (g_roots[i].id == id) return &g_roots[i];
  return NULL;
}

static http_ctx *find_http(uint32_t id) {
  for (size_t i = 0; i < g_http_count; i++)
    if (g_https[i].id == id) return &g_https[i];
  return NULL;
}

/* ---- logging helpers ------------------------------------------------------------------------ */
static void log_phase(const root_ctx *root, const char *name) {
  if (root && !root->log_phases) return;
  pw_str s = {0};
  pw_str_add(pw_str_add(&s, "phase:"), name);
  if (root && root->tag) pw_str_add(pw_str_add(&s, " tag="), root->tag);
  pw_log_str(PW_LOG_INFO, &s);
  pw_str_free(&s);
}

static void log_result(const char *action, pw_status status) {
  pw_str s = {0};
  pw_str_add(pw_str_add(&s, "result:"), action);
  pw_str_add_u64(pw_str_addc(&s, '='), (uint64_t)status);
  pw_log_str(PW_LOG_INFO, &s);
  pw_str_free(&s);
}

/* Printable ASCII is kept as is; anything else is rendered as "hex:<lowercase hex>". */
static void add_rendered(pw_str *s, const char *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if ((unsigned char)p[i] < 0x20 || (unsigned char)p[i] > 0x7e) {
      pw_str_add_hex(pw_str_add(s, "hex:"), p, n);
      return;
    }
  }
  pw_str_addn(s, p, n);
}

#endif
