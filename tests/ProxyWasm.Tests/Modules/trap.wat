;; Failure-mode module (ABI 0.2.1). The first byte of the plugin configuration selects where it misbehaves:
;;  'v' trap in on_vm_start   'c' on_configure returns false   'C' trap in on_configure
;;  'h' trap in on_request_headers   'b' trap in on_request_body   'r' trap in on_response_headers
;;  's' trap in on_response_body     'l' trap in on_log            't' trap in on_tick (period 5 ms)
;;  'L' endless loop in on_request_headers   'M' grow memory by 1 MiB (logging "grew") until refused, then trap
;;  'x' proc_exit(0) in on_request_headers (a trap)   'X' proc_exit(3) in on_request_headers
(module
  (import "env" "proxy_get_buffer_bytes" (func $get_buffer (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_set_tick_period_milliseconds" (func $tick (param i32) (result i32)))
  (import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 4096))
  (global $mode (mut i32) (i32.const 0))
  (global $ticks (mut i32) (i32.const 0))
  (data (i32.const 100) "tick")
  (data (i32.const 110) "grew")
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "malloc") (param $n i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (local.get $n)))
    (local.get $p))
  (func $trap_if (param $m i32) (if (i32.eq (global.get $mode) (local.get $m)) (then (unreachable))))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32)
    (drop (call $get_buffer (i32.const 7) (i32.const 0) (i32.const 1) (i32.const 0) (i32.const 4)))
    (if (i32.load (i32.const 4)) (then (global.set $mode (i32.load8_u (i32.load (i32.const 0))))))
    (call $trap_if (i32.const 118)) ;; 'v'
    (i32.const 1))
  (func (export "proxy_on_configure") (param i32 i32) (result i32)
    (call $trap_if (i32.const 67)) ;; 'C'
    (if (i32.eq (global.get $mode) (i32.const 116)) (then (drop (call $tick (i32.const 5))))) ;; 't'
    (i32.ne (global.get $mode) (i32.const 99))) ;; 'c' → false
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (call $trap_if (i32.const 104)) ;; 'h'
    (if (i32.eq (global.get $mode) (i32.const 76)) (then (loop $forever (br $forever)))) ;; 'L'
    (if (i32.eq (global.get $mode) (i32.const 77)) ;; 'M'
      (then (loop $grow
              (if (i32.ne (memory.grow (i32.const 16)) (i32.const -1))
                (then (drop (call $log (i32.const 2) (i32.const 110) (i32.const 4))) (br $grow))))
            (unreachable)))
    (if (i32.eq (global.get $mode) (i32.const 120)) (then (call $exit (i32.const 0)))) ;; 'x'
    (if (i32.eq (global.get $mode) (i32.const 88)) (then (call $exit (i32.const 3)))) ;; 'X'
    (i32.const 0))
  (func (export "proxy_on_request_body") (param i32 i32 i32) (result i32) (call $trap_if (i32.const 98)) (i32.const 0))
  (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32) (call $trap_if (i32.const 114)) (i32.const 0))
  (func (export "proxy_on_response_body") (param i32 i32 i32) (result i32) (call $trap_if (i32.const 115)) (i32.const 0))
  (func (export "proxy_on_log") (param i32) (call $trap_if (i32.const 108)))
  (func (export "proxy_on_tick") (param i32)
    (global.set $ticks (i32.add (global.get $ticks) (i32.const 1)))
    (drop (call $log (i32.const 2) (i32.const 100) (i32.const 4)))
    ;; trap on the second tick of each instance, so a recycled instance keeps ticking
    (if (i32.eq (global.get $ticks) (i32.const 2)) (then (call $trap_if (i32.const 116)))))
  (func (export "proxy_on_done") (param i32) (result i32) (i32.const 1))
  (func (export "proxy_on_delete") (param i32)))
