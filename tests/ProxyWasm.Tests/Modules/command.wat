;; WASI command module (like TinyGo's): _start logs "started" then ends with proc_exit(0) — a normal end of
;; start-up (abi doc §1.2). on_request_headers calls proc_exit(0) too, which inside a callback is a trap (§3).
(module
  (import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "started")
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "malloc") (param i32) (result i32) (i32.const 1024))
  (func (export "_start") (drop (call $log (i32.const 2) (i32.const 100) (i32.const 7))) (call $exit (i32.const 0)))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_configure") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (call $exit (i32.const 0)) (i32.const 0)))
