/*
 * proxy_wasm_abi.h - the raw Proxy-Wasm ABI for C: version selection, enums with their exact
 * values, and every host import of module "env" (0.1.0, 0.2.0 and 0.2.1 union) with its exact
 * wasm signature. Included by proxy_wasm.h; usable alone by filters that want no helpers.
 */
#ifndef GATEHOUSE_PROXY_WASM_ABI_H
#define GATEHOUSE_PROXY_WASM_ABI_H

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


#endif /* GATEHOUSE_PROXY_WASM_ABI_H */
