/* bench-body: buffers the request body until end_of_stream (returns Pause before), reads it,
 * and replaces it with an upper-cased copy of the same length (ASCII a-z -> A-Z), so
 * Content-Length stays valid (benchmark WB). No configuration, no logging. */
#include "../sdk/pw_filter.h"

PW_NOOP_LIFECYCLE()
PW_NOOP_CONFIGURE()
PW_EXPORT(proxy_on_request_body) uint32_t on_request_body(uint32_t ctx, uint32_t size, uint32_t eos) {
  (void)ctx;
  if (!eos) return PW_PAUSE; /* let the host accumulate the whole body */
  if (size == 0) return PW_CONTINUE;
  pw_bytes body;
  if (pw_get_buffer(PW_BUFFER_HTTP_REQUEST_BODY, 0, size, &body) != PW_OK) return PW_CONTINUE;
  for (size_t i = 0; i < body.len; i++)
    if (body.data[i] >= 'a' && body.data[i] <= 'z') body.data[i] = (char)(body.data[i] - 32);
  pw_replace_buffer(PW_BUFFER_HTTP_REQUEST_BODY, size, body.data, body.len);
  pw_bytes_free(&body);
  return PW_CONTINUE;
}
