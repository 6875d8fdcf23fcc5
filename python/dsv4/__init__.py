"""dsv4: launch the fused DeepSeek-V4 compressor epilogue (RMSNorm -> RoPE ->
Walsh-Hadamard), in place or followed by the FP8 paged-cache store, optionally
preceded by the window pooling over the paged state cache (the compress kernel),
compiled by dsv4-opt, through the libdsv4_runtime.so shim.

Importing this package needs neither torch nor a GPU; torch is imported only
by compress_norm_rope_hadamard_inplace, compress_norm_rope_quantize_store,
compress_quantize_store and `import dsv4.torch_ops`, which registers
torch.ops.dsv4.*.
"""
from .library import Config, KernelNotFound, find_kernel, get_kernel, read_manifest
from .runtime import (Dsv4Error, Kernel, compress_norm_rope_hadamard_inplace,
                      compress_norm_rope_quantize_store, compress_quantize_store)
from .version import __version__

__all__ = ["Config", "Dsv4Error", "Kernel", "KernelNotFound", "__version__",
           "compress_norm_rope_hadamard_inplace", "compress_norm_rope_quantize_store",
           "compress_quantize_store",
           "find_kernel", "get_kernel", "read_manifest"]
