"""Launches one dsv4 kernel a few times on random data, for a profiler to attach to:
    ncu --kernel-name regex:dsv4 --launch-skip 2 --launch-count 1 \\
        python3 bench/profile_one.py out/KERNEL.sm_90.ptx 8192
Decode manifests only (seq_lens handle); a store kernel (its manifest has a layout) stores every
row into a cache of its layout, at slots in a random order."""
import json
import os
import sys

import checkout_paths  # noqa: F401 - python/ and device/ on sys.path
from dsv4_reference import epilogue_torch


def main(binary, rows, launches=4):
    import torch
    import dsv4.runtime as runtime
    from dsv4.library import Config

    with open(os.path.splitext(binary)[0] + ".json") as f:
        manifest = json.load(f)
    kernel = runtime.Kernel(binary, config=Config.from_manifest(manifest))
    head_dim, rope_dim = manifest["head_dim"], manifest["rope_dim"]
    kv = torch.randn(rows, head_dim, device="cuda").to(epilogue_torch.torch_dtype(manifest["kv_dtype"]))
    weight = (0.5 + torch.rand(head_dim, device="cuda")).to(epilogue_torch.torch_dtype(manifest["weight_dtype"]))
    freqs = epilogue_torch.random_freqs(4096, rope_dim, torch.Generator().manual_seed(0), "cuda")
    seq_lens = torch.randint(1, 4097, (rows,), device="cuda", dtype=torch.int32)
    if "layout" in manifest:
        from dsv4_reference.store_model import Layout

        layout = Layout(manifest["layout"], manifest["page_size"])
        seq_lens = (seq_lens - 1) // manifest["ratio"] * manifest["ratio"] + manifest["ratio"]
        pages = -(-rows // layout.page_size)
        out_loc = torch.randperm(pages * layout.page_size, device="cuda")[:rows]
        cache = torch.zeros(pages * layout.page_bytes, dtype=torch.uint8, device="cuda")
    for _ in range(launches):
        if "layout" in manifest:
            runtime.compress_norm_rope_quantize_store(
                kv, weight, freqs, seq_lens, out_loc, cache, manifest["eps"], kernel=kernel)
        else:
            runtime.compress_norm_rope_hadamard_inplace(kv, weight, freqs, seq_lens,
                                                        manifest["eps"], kernel=kernel)
    torch.cuda.synchronize()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
