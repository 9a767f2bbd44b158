;; Benchmark module: each loop_* export performs one host operation $n times, so the cost of one operation is
;; (time of the call) / n with the guest-call overhead amortised. The "allocator" hands out one scratch region
;; (nothing is read back). The proxy_on_* callbacks do nothing (a no-op filter for the request lifecycle).
(module
  (import "env" "proxy_get_header_map_value" (func $get (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_replace_header_map_value" (func $replace (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_add_header_map_value" (func $add (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_remove_header_map_value" (func $remove (param i32 i32 i32) (result i32)))
  (import "env" "proxy_get_header_map_pairs" (func $pairs (param i32 i32 i32) (result i32)))
  (import "env" "proxy_get_current_time_nanoseconds" (func $time (param i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 1024) "user-agent")
  (data (i32.const 1040) "x-request-id")
  (data (i32.const 1056) "abc-123")
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "malloc") (param i32) (result i32) (i32.const 4096))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_configure") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (i32.const 0))
  (func (export "proxy_on_done") (param i32) (result i32) (i32.const 1))
  (func (export "proxy_on_log") (param i32))
  (func (export "proxy_on_delete") (param i32))
  ;; get user-agent
  (func (export "loop_get") (param $n i32) (result i32)
    (loop $l
      (drop (call $get (i32.const 0) (i32.const 1024) (i32.const 10) (i32.const 0) (i32.const 4)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (local.get $n)))
    (i32.const 0))
  ;; replace x-request-id: abc-123
  (func (export "loop_replace") (param $n i32) (result i32)
    (loop $l
      (drop (call $replace (i32.const 0) (i32.const 1040) (i32.const 12) (i32.const 1056) (i32.const 7)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (local.get $n)))
    (i32.const 0))
  ;; add x-request-id then remove it (two operations per iteration)
  (func (export "loop_add_remove") (param $n i32) (result i32)
    (loop $l
      (drop (call $add (i32.const 0) (i32.const 1040) (i32.const 12) (i32.const 1056) (i32.const 7)))
      (drop (call $remove (i32.const 0) (i32.const 1040) (i32.const 12)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (local.get $n)))
    (i32.const 0))
  ;; get all request header pairs (serialization + copy into the guest)
  (func (export "loop_pairs") (param $n i32) (result i32)
    (loop $l
      (drop (call $pairs (i32.const 0) (i32.const 0) (i32.const 4)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (local.get $n)))
    (i32.const 0))
  ;; the cheapest host call: dispatch cost
  (func (export "loop_time") (param $n i32) (result i32)
    (loop $l
      (drop (call $time (i32.const 16)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (local.get $n)))
    (i32.const 0)))
