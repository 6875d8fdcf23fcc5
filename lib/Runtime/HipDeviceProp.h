//===- HipDeviceProp.h - where gcnArchName sits in hipDeviceProp_tR0600 ---===//
//
// The shim has no HIP headers, so it mirrors the prefix of HIP 6+'s
// hipDeviceProp_tR0600 (hip_runtime_api.h) up to gcnArchName, and hands HIP a
// buffer far larger than the whole struct (1472 bytes in HIP 6/7) so that
// fields added at the end can never overrun it. The fake HIP used by the
// tests writes through the same mirror; the static_assert pins the offset to
// the value LLVM's offload-arch tool reads (1160), an independent source.
//
//===----------------------------------------------------------------------===//
#ifndef DSV4_RUNTIME_HIPDEVICEPROP_H
#define DSV4_RUNTIME_HIPDEVICEPROP_H

#include <stddef.h>

typedef struct dsv4_hip_device_prop_prefix {
  char name[256];
  char uuid[16];
  char luid[8];
  unsigned int luidDeviceNodeMask;
  size_t totalGlobalMem, sharedMemPerBlock;
  int regsPerBlock, warpSize;
  size_t memPitch;
  int maxThreadsPerBlock, maxThreadsDim[3], maxGridSize[3], clockRate;
  size_t totalConstMem;
  int major, minor;
  size_t textureAlignment, texturePitchAlignment;
  int deviceOverlap, multiProcessorCount, kernelExecTimeoutEnabled, integrated;
  int canMapHostMemory, computeMode;
  int maxTexture1D, maxTexture1DMipmap, maxTexture1DLinear, maxTexture2D[2];
  int maxTexture2DMipmap[2], maxTexture2DLinear[3], maxTexture2DGather[2];
  int maxTexture3D[3], maxTexture3DAlt[3], maxTextureCubemap;
  int maxTexture1DLayered[2], maxTexture2DLayered[3], maxTextureCubemapLayered[2];
  int maxSurface1D, maxSurface2D[2], maxSurface3D[3], maxSurface1DLayered[2];
  int maxSurface2DLayered[3], maxSurfaceCubemap, maxSurfaceCubemapLayered[2];
  size_t surfaceAlignment;
  int concurrentKernels, ECCEnabled, pciBusID, pciDeviceID, pciDomainID;
  int tccDriver, asyncEngineCount, unifiedAddressing, memoryClockRate;
  int memoryBusWidth, l2CacheSize, persistingL2CacheMaxSize;
  int maxThreadsPerMultiProcessor, streamPrioritiesSupported;
  int globalL1CacheSupported, localL1CacheSupported;
  size_t sharedMemPerMultiprocessor;
  int regsPerMultiprocessor, managedMemory, isMultiGpuBoard, multiGpuBoardGroupID;
  int hostNativeAtomicSupported, singleToDoublePrecisionPerfRatio;
  int pageableMemoryAccess, concurrentManagedAccess, computePreemptionSupported;
  int canUseHostPointerForRegisteredMem, cooperativeLaunch;
  int cooperativeMultiDeviceLaunch;
  size_t sharedMemPerBlockOptin;
  int pageableMemoryAccessUsesHostPageTables, directManagedMemAccessFromHost;
  int maxBlocksPerMultiProcessor, accessPolicyMaxWindowSize;
  size_t reservedSharedMemPerBlock;
  int hostRegisterSupported, sparseHipArraySupported;
  int hostRegisterReadOnlySupported, timelineSemaphoreInteropSupported;
  int memoryPoolsSupported, gpuDirectRDMASupported;
  unsigned int gpuDirectRDMAFlushWritesOptions;
  int gpuDirectRDMAWritesOrdering;
  unsigned int memoryPoolSupportedHandleTypes;
  int deferredMappingHipArraySupported, ipcEventSupported, clusterLaunch;
  int unifiedFunctionPointers;
  int reserved[63];
  int hipReserved[32];
  char gcnArchName[256];
} dsv4_hip_device_prop_prefix;

#define DSV4_HIP_GCN_ARCH_NAME_OFFSET 1160
#define DSV4_HIP_DEVICE_PROP_BUFFER_SIZE 8192

#ifdef __cplusplus
static_assert(offsetof(dsv4_hip_device_prop_prefix, gcnArchName) ==
                  DSV4_HIP_GCN_ARCH_NAME_OFFSET,
              "hipDeviceProp_tR0600 mirror drifted from HIP's layout");
#else
_Static_assert(offsetof(dsv4_hip_device_prop_prefix, gcnArchName) ==
                   DSV4_HIP_GCN_ARCH_NAME_OFFSET,
               "hipDeviceProp_tR0600 mirror drifted from HIP's layout");
#endif

#endif // DSV4_RUNTIME_HIPDEVICEPROP_H
