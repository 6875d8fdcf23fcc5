"""Proof on the GPU of dsv4.frameworks.sglang.compress_norm_rope_store, sglang's call argument
for argument: for every f32 sglang store kernel of this GPU's library (modes sglang_decode and
sglang_extend, each layout and ratio; int32 out_loc for a kernel of i32 slots), sglang's own
plan structs (uint8 [N, 16] DecodePlan or
CompressPlan, built here as sglang's planner lays them out) stored through the adapter, eagerly
and replayed from a captured CUDA graph (also on new kv written into the captured buffer), must
give a patterned cache byte for byte equal to the same rows stored by torch_op_proof's dsv4
store op of the translated call: decode, seq_lens = seq_len where sglang planned the state (else
0); prefill, plan rows (m, 0, seq_len - 1, ratio) and out_loc[m] = out_loc[ragged_id]. The
translated kernel has the same shape (decode with decode, extend with prefill), so every bit of
the finished rows agrees; torch_op_proof holds that op to SPEC.md.

Run from the repo root with the shim built (run_torch_op_proof.sh does):
  DSV4_RUNTIME_LIB=/tmp/rt/lib/libdsv4_runtime.so DSV4_KERNEL_DIR=out PYTHONPATH=python \\
    python3 device/sglang_proof.py [--seed S]
Prints one line per check and `N passed, N failed`; exits 1 on any failure.
"""
import argparse
import collections
import sys
import time

import store_proof
import torch_op_proof
from dsv4_reference import epilogue_torch
from dsv4_reference.store_model import Layout

DEVICE = "cuda"
SIZES = (1, 7, 64, 1000)
# sglang's plan tuples (sglang.jit_kernel.dsv4.compress): element 1 is the struct tensor.
DecodePlan = collections.namedtuple("CompressorDecodePlan", "compress_ratio plan_d")
DecodePlan.is_decode = property(lambda self: True)
PrefillPlan = collections.namedtuple("CompressorPrefillPlan",
                                     "compress_ratio plan_c plan_w pin_buffer")
PrefillPlan.is_decode = property(lambda self: False)


def sglang_batch(m, layout, rows, gen):
    """kv, sglang's plan, out_loc, the translated (handle, out_loc) of dsv4's own modes, and the
    cache size: random seq_lens (about half on a window's end), some rows sglang marks
    invalid or unplanned, distinct slots (some -1) over enough pages."""
    import torch

    ratio, decode = m["ratio"], m["mode"] == "sglang_decode"
    kv = torch.randn(rows, m["head_dim"], generator=gen)
    windows = torch.randint(1, store_proof.NUM_POSITIONS // ratio, (rows,), generator=gen)
    seq_len = windows * ratio + torch.where(torch.rand(rows, generator=gen) < 0.5, 0,
                                            torch.randint(1, ratio, (rows,), generator=gen)
                                            if ratio > 1 else 0)
    invalid = torch.rand(rows, generator=gen) < 0.1
    seq_len = torch.where(invalid, -1, seq_len).to(torch.int32)  # 0xFFFFFFFF
    slots = torch.randperm(rows * 2, generator=gen)[:rows].to(torch.int64)
    out_loc = torch.where(torch.rand(rows, generator=gen) < 0.1, -1, slots)
    cache_bytes = Layout(m["layout"], m["page_size"]).slot(2 * rows - 1)[2]
    structs = torch.zeros(rows, 4, dtype=torch.int32)
    structs[:, 0] = seq_len
    if decode:
        structs[:, 1] = torch.where(torch.rand(rows, generator=gen) < 0.1, -1, 7)  # write_loc
        structs[:, 2] = torch.where(torch.rand(rows, generator=gen) < 0.1, -1, 3)  # read_page_0
        planned = (structs[:, 1] >= 0) & (structs[:, 2] >= 0)
        handle, dsv4_out_loc = torch.where(planned, seq_len, 0), out_loc
        plan = DecodePlan(ratio, None)
    else:
        ragged = torch.randperm(rows, generator=gen).to(torch.int32)
        structs[:, 1] = ragged | ((torch.arange(rows, dtype=torch.int32) % 7 + 1) << 16)
        structs[:, 2], structs[:, 3] = -1, torch.arange(rows, dtype=torch.int32)
        handle = torch.stack([torch.where(seq_len < 0, -1, torch.arange(rows, dtype=torch.int32)),
                              torch.zeros(rows, dtype=torch.int32), seq_len - 1,
                              torch.full((rows,), ratio, dtype=torch.int32)], dim=1)
        dsv4_out_loc = out_loc[ragged.long()]
        plan = PrefillPlan(ratio, None, None, None)
    structs = structs.to(DEVICE).view(torch.uint8)  # sglang's uint8 [N, 16], little-endian
    plan = plan._replace(**{plan._fields[1]: structs})
    # A kernel of i32 slots takes earlier sglang's int32 out_loc (the slots fit).
    slots = out_loc.to(torch.int32) if m.get("out_loc_dtype") == "i32" else out_loc
    return (kv.to(DEVICE), plan, slots.to(DEVICE), handle.contiguous().to(DEVICE),
            dsv4_out_loc.contiguous().to(DEVICE), cache_bytes)


def check_kernel(m, gen, report):
    import torch

    import dsv4.torch_ops  # noqa: F401 - registers torch.ops.dsv4
    from dsv4.frameworks import sglang

    layout = Layout(m["layout"], m["page_size"])
    weight = (0.5 + torch.rand(m["head_dim"], generator=gen)).to(DEVICE)
    freqs = epilogue_torch.random_freqs(store_proof.NUM_POSITIONS, m["rope_dim"], gen, DEVICE)
    freq_cis = freqs.view(torch.complex64)
    for rows in SIZES:
        kv, plan, out_loc, handle, dsv4_out_loc, cache_bytes = sglang_batch(m, layout, rows, gen)
        before = store_proof.pattern(cache_bytes)
        label = f"{m['kernel']} {rows} rows"

        def call(cache):
            sglang.compress_norm_rope_store(kv, plan, norm_weight=weight, norm_eps=m["eps"],
                                            freq_cis=freq_cis, out_loc=out_loc, kvcache=cache,
                                            page_size=m["page_size"],
                                            use_fp4=m["layout"] == "indexer_mxfp4")

        def expected():
            want = before.clone()
            torch.ops.dsv4.compress_norm_rope_quantize_store_(
                kv, weight, freqs, handle, dsv4_out_loc, want, m["eps"], m["ratio"],
                m["rotate"], m["layout"], m["page_size"])
            return want

        def judge(cache, want, how):
            torch.cuda.synchronize()
            differ = int((cache != want).sum())
            written = int((want != before).sum())
            # A batch of 64 rows or more has storing rows (about a third of them store).
            report(differ == 0 and (written > 0 or rows < 64),
                   f"{differ} bytes differ, {written} bytes written", f"{label} {how}")

        cache = before.clone()
        call(cache)
        judge(cache, expected(), "eager")
        cache.copy_(before)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            call(cache)
        cache.copy_(before)
        graph.replay()
        judge(cache, expected(), "CUDA graph replay")
        kv.copy_(torch.randn(kv.shape, generator=gen).to(DEVICE))
        cache.copy_(before)
        graph.replay()
        judge(cache, expected(), "CUDA graph replay, new kv")


def sglang_kernels(kernels):
    return [m for m in kernels if m["mode"] in ("sglang_decode", "sglang_extend")
            and m["kv_dtype"] == "f32"]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seed", type=int, help="reproduce an earlier run (default: from the clock)")
    args = p.parse_args(argv)
    import torch
    from dsv4 import library

    seed = args.seed if args.seed is not None else time.time_ns() % 2**31
    chip = library.chip_of(torch.device(DEVICE))
    print(f"sglang_proof: seed={seed} device={torch.cuda.get_device_name()} chip={chip}",
          flush=True)
    gen = torch.Generator().manual_seed(seed)
    tally = torch_op_proof.Tally()
    tally.each(sglang_kernels(library.library_kernels(chip)),
               "no f32 sglang store kernel in the library (scripts/run)", chip,
               lambda m: check_kernel(m, gen, tally.report))
    return tally.close()


if __name__ == "__main__":
    sys.exit(main())
