; A stand-in for a dsv4 kernel with the exact ABI signature of docs/ABI.md
; (4 global pointers, 6 i32), so the runtime's metadata-driven packing can be
; tested against a real code object before dsv4-opt produces one. The body
; only stores num_items through kv so that nothing is optimized away.
target triple = "amdgcn-amd-amdhsa"

define amdgpu_kernel void @dsv4_decode_d512_r64_f32(
    ptr addrspace(1) %kv, ptr addrspace(1) %weight, ptr addrspace(1) %freqs,
    ptr addrspace(1) %handle, i32 %num_items, i32 %num_rows,
    i32 %kv_row_stride, i32 %num_positions, i32 %freqs_row_stride,
    i32 %plan_row_stride) {
  store i32 %num_items, ptr addrspace(1) %kv
  ret void
}

; A second kernel with another signature: the loader must pick the
; manifest's kernel by name, not take the first one.
define amdgpu_kernel void @other_kernel(ptr addrspace(1) %p, i64 %n) {
  store i64 %n, ptr addrspace(1) %p
  ret void
}
