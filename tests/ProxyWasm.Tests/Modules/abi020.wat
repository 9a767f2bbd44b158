;; ABI 0.2.0 module (e.g. npm @solo-io/proxy-runtime 0.1.8): three-argument header callback adding "x-abi: 0.2.0".
;; It also imports proxy_grpc_call with the AssemblyScript SDK's 10-parameter signature, which the host must stub.
(module
  (import "env" "proxy_add_header_map_value" (func $add (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_grpc_call" (func $grpc (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "x-abi")
  (data (i32.const 110) "0.2.0")
  (func (export "proxy_abi_version_0_2_0"))
  (func (export "malloc") (param i32) (result i32) (i32.const 4096))
  ;; calling the mismatched import reaches the host's trapping stub
  (func (export "call_grpc") (result i32)
    (call $grpc (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)))
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (drop (call $add (i32.const 0) (i32.const 100) (i32.const 5) (i32.const 110) (i32.const 5)))
    (i32.const 0)))
