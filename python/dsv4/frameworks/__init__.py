"""Adapters for the serving frameworks' call sites: functions that take a framework's own
arguments (same names, order and defaults as the kernel entry they stand in for) and launch
dsv4's kernel on the framework's tensors as they are, through views, never copies. What a
framework passes that no view makes into dsv4's arguments is refused with a Dsv4Error naming it.

    dsv4.frameworks.sglang   sglang's DeepSeek-V4 compressor store (compress_norm_rope_store)
    dsv4.frameworks.vllm     vLLM's DeepSeek-V4 compressor store (compress_norm_rope_store_*)

Importing this package imports neither torch nor a framework.
"""
