"""dsv4's float64 reference models of SPEC.md, independent of the compiler: what the CPU tests,
the device proofs (device/) and the benchmark (bench/) hold the kernels to.

- compress_model: the compress step in front (window pooling, then the epilogue), plain Python;
- compress_torch: the same rules as torch tensor operations, for batches of 65536 items;
- epilogue_torch: the epilogue (RMSNorm, RoPE, Hadamard) and its work items, torch float64;
- store_model: the bytes a paged-cache store writes (FP8, MXFP4), plain Python;
- store_torch: the same bytes as torch tensor operations.

Imported with the checkout's python/ on the path (PYTHONPATH=python, as every device command
and the lit tests that need it set); not shipped in the dsv4 wheel. torch is imported inside the
functions that need it, so the plain-Python parts load where torch is absent.
"""
