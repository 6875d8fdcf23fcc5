; A stand-in for a dsv4 kernel with the exact ABI signature of docs/ABI.md
; (4 global pointers, 6 i32) and the block size of Inputs/decode_f32.json (256,
; declared as dsv4 kernels declare theirs), so the runtime can be tested on a
; real code object; embed_manifest.py appends the manifest and digest globals.
; The body only stores num_items through kv so that nothing is optimized away.
target triple = "amdgcn-amd-amdhsa"

define amdgpu_kernel void @dsv4_decode_d512_r64_f32(
    ptr addrspace(1) %kv, ptr addrspace(1) %weight, ptr addrspace(1) %freqs,
    ptr addrspace(1) %handle, i32 %num_items, i32 %num_rows,
    i32 %kv_row_stride, i32 %num_positions, i32 %freqs_row_stride,
    i32 %plan_row_stride) #0 {
  store i32 %num_items, ptr addrspace(1) %kv
  ret void
}

; A second kernel with another signature: the loader must pick the
; manifest's kernel by name, not take the first one.
define amdgpu_kernel void @other_kernel(ptr addrspace(1) %p, i64 %n) {
  store i64 %n, ptr addrspace(1) %p
  ret void
}

attributes #0 = { "amdgpu-flat-work-group-size"="256,256" }
