;; An allocator that always fails (returns 0): host functions returning data must answer INVALID_MEMORY_ACCESS.
(module
  (import "env" "proxy_get_property" (func $get_property (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "plugin_name")
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "malloc") (param i32) (result i32) (i32.const 0))
  (func (export "get_plugin_name") (result i32) (call $get_property (i32.const 100) (i32.const 11) (i32.const 0) (i32.const 4))))
