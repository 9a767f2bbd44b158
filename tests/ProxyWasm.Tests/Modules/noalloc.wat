;; ABI marker but no allocator (neither malloc nor proxy_on_memory_allocate): must be rejected at load.
(module
  (memory (export "memory") 1)
  (func (export "proxy_abi_version_0_2_1")))
