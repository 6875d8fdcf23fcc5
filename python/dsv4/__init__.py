"""dsv4: launch the fused DeepSeek-V4 compressor epilogue (RMSNorm -> RoPE ->
Walsh-Hadamard) compiled by dsv4-opt, through the libdsv4_runtime.so shim.

Importing this package needs neither torch nor a GPU; torch is imported only
by compress_norm_rope_hadamard_inplace.
"""
from .runtime import Dsv4Error, Kernel, compress_norm_rope_hadamard_inplace

__all__ = ["Dsv4Error", "Kernel", "compress_norm_rope_hadamard_inplace"]
