//===- HipDeviceProp.h - where gcnArchName sits in hipDeviceProp_tR0600 ---===//
//
// The shim has no HIP headers. HIP 6+'s hipDeviceProp_tR0600 (1472 bytes in
// HIP 6/7) starts with `char name[256]` and holds `char gcnArchName[256]` at
// byte 1160, the offset LLVM's amdgpu-arch/offload-arch tool reads as well.
// HIP gets a buffer far larger than the struct, so fields added at its end can
// never overrun it. The fake HIP of the tests writes through the same offsets.
//
//===----------------------------------------------------------------------===//
#ifndef DSV4_RUNTIME_HIPDEVICEPROP_H
#define DSV4_RUNTIME_HIPDEVICEPROP_H

#define DSV4_HIP_NAME_OFFSET 0
#define DSV4_HIP_GCN_ARCH_NAME_OFFSET 1160
#define DSV4_HIP_NAME_SIZE 256
#define DSV4_HIP_DEVICE_PROP_BUFFER_SIZE 8192

#endif // DSV4_RUNTIME_HIPDEVICEPROP_H
