"""Device proof of dsv4.frameworks.vllm: vLLM's compressor store call, with the tensors as vLLM
holds them, through the adapter onto the GPU, every cache byte checked.

For each compress kernel of the objects folders that can serve vLLM's main cache (layout main,
no rotation, FP8 e4m3fn: the sm_90 twin here), on random batches of compress_proof.py (padded
strides every other batch) recast as vLLM holds them: vLLM's token_to_req_indices buffer longer
than the batch (num_actual says how much is used), a positions buffer padded past it, the
compressed slot mapping in a metadata object, kv_cache uint8 [pages, page_size, 584] whose pages
lie the main layout's page bytes apart, and cos_sin_cache in vLLM's [P, R] layout (the cosines,
then the sines) made into the complex table once by freqs_cis_of:
  - freqs_cis_of gives back the batch's own RoPE table exactly;
  - compress_norm_rope_store_triton, _cutedsl and _two_stage_triton (in turn) write the same
    cache, byte for byte, as dsv4.compress_quantize_store called directly with the batch's own
    arguments (the flat cache, the float32 table) and the same kernel: the mapping is exact;
  - that cache is within compress_proof.judge's bounds of dsv4_reference.compress_torch's float64
    rows (SPEC.md's bytes of them), and no byte outside the stored slots changed;
  - vLLM's [P, R] cos_sin_cache passed as it is, is refused (Dsv4Error), the cache untouched.
The adapter finds its kernel with dsv4.get_kernel ($DSV4_KERNEL_DIR or the package's library),
which must hold the kernels of the objects folders (run_torch_op_proof.sh sees to it).

Run from the repo root with the shim built (run_torch_op_proof.sh does all of it):
  DSV4_RUNTIME_LIB=/tmp/rt/lib/libdsv4_runtime.so DSV4_KERNEL_DIR=out PYTHONPATH=python \\
    python3 device/vllm_adapter_proof.py [--objects out] [--quick] [--seed S]
Prints one line per check and `===== vllm adapter proof: N failed`; exits 1 on any failure.
"""
import sys
import types

import compress_proof
import objects
from dsv4_reference.store_model import Layout

DEVICE = "cuda"
SIZES = (1, 64, 4096)
QUICK_SIZES = (1, 64)
# DeepseekCompressor's geometry of the main cache (quant_block, token_stride, scale_dim) and its
# bytes a token in kv_cache's last dimension.
MAIN_GEOMETRY = dict(quant_block=64, token_stride=576, scale_dim=8)
TOKEN_BYTES = 584

# compress_proof's verdict lines and failure list: its checks and these count together.
verdict, failures = compress_proof.verdict, compress_proof.failures


def serves_vllm(m):
    """A kernel vLLM's main cache can use: compress, main layout, no Hadamard, e4m3fn."""
    return (m.get("mode") == "compress" and m.get("layout") == "main" and not m["rotate"]
            and compress_proof.fp8_flavour(m) == "fn")


def vllm_call(m, batch, kv_cache, weight, cos_sin_cache):
    """The keyword arguments DeepseekCompressor.forward hands the store, for `batch`."""
    import torch

    from dsv4.frameworks.vllm import freqs_cis_of

    t_count = batch.token_req.numel()
    # vLLM's buffers are sized for the largest batch; only their first num_actual entries count.
    token_to_req = torch.full((t_count + 5,), -7, dtype=torch.int32, device=DEVICE)
    token_to_req[:t_count] = batch.token_req
    positions = torch.cat((batch.positions[:t_count],
                           torch.full((3,), -1, dtype=torch.int64, device=DEVICE)))
    coff = 2 if m["overlap"] else 1
    return dict(
        state_cache=batch.state, num_actual=t_count, token_to_req_indices=token_to_req,
        positions=positions,
        slot_mapping=torch.zeros(t_count, dtype=torch.int64, device=DEVICE),
        block_table=batch.block_table, block_size=m["state_block_size"],
        state_width=coff * m["head_dim"],
        cos_sin_cache=freqs_cis_of(cos_sin_cache),
        kv_cache=kv_cache, k_cache_metadata=types.SimpleNamespace(slot_mapping=batch.out_loc),
        pdl_kwargs={}, head_dim=m["head_dim"], rope_head_dim=m["rope_dim"],
        compress_ratio=m["ratio"], overlap=m["overlap"], use_fp4_cache=False,
        rms_norm_weight=weight, rms_norm_eps=m["eps"], **MAIN_GEOMETRY)


def entry(k):
    """The launcher of batch k: vLLM's three, in turn (the two-stage one with its extras)."""
    import functools

    import dsv4.frameworks.vllm as adapter

    return (adapter.compress_norm_rope_store_triton,
            adapter.compress_norm_rope_store_cutedsl,
            functools.partial(adapter.compress_norm_rope_store_two_stage_triton,
                              num_decode_tokens=1, compress_scratch=None))[k % 3]


def check_batch(m, kernel, config, batch, k):
    import torch

    import dsv4

    layout = Layout(m["layout"], m["page_size"])
    # Pages up to the last slot's: vLLM's slots all lie in its cache.
    pages = int(batch.out_loc.max().clamp(min=0)) // m["page_size"] + 1
    before = compress_proof.pattern(pages * layout.page_bytes)
    weight = batch.weight.to(torch.bfloat16 if m["weight_dtype"] == "bf16" else torch.float32)
    batch.weight = weight.float()  # what the reference reads: the kernel's weight values
    name = f"{m['kernel']} random {batch.token_req.numel()}{batch.note}"

    # vLLM's cos_sin_cache: per position the R/2 cosines, then the R/2 sines.
    cos_sin_cache = torch.cat((batch.freqs[:, 0::2], batch.freqs[:, 1::2]), dim=1)
    args = vllm_call(m, batch, None, weight, cos_sin_cache)
    table = torch.view_as_real(args["cos_sin_cache"]).flatten(-2)
    verdict(torch.equal(table, batch.freqs), f"{name}: freqs_cis_of gives back the RoPE table")

    direct = before.clone()
    dsv4.compress_quantize_store(batch.state, batch.block_table, batch.token_req,
                                 batch.positions, weight, batch.freqs, batch.out_loc, direct,
                                 m["eps"], kernel=kernel, config=config)
    flat = before.clone()
    args["kv_cache"] = flat.as_strided((pages, m["page_size"], TOKEN_BYTES),
                                       (layout.page_bytes, TOKEN_BYTES, 1))
    launcher = entry(k)
    launcher(**args)
    torch.cuda.synchronize()
    verdict(torch.equal(flat, direct), f"{name}: the adapter's cache == dsv4's direct call's "
                                       f"({getattr(launcher, 'func', launcher).__name__})")
    ok, detail = compress_proof.judge(m, batch, flat, before,
                                      compress_proof.expected_of(m, batch))
    verdict(ok, f"{name}: {detail}")

    # vLLM's own table is not dsv4's: refused, nothing written.
    untouched = before.clone()
    args.update(cos_sin_cache=cos_sin_cache,
                kv_cache=untouched.as_strided(args["kv_cache"].shape, args["kv_cache"].stride()))
    try:
        launcher(**args)
        refused = False
    except dsv4.Dsv4Error:
        refused = True
    torch.cuda.synchronize()
    verdict(refused and torch.equal(untouched, before),
            f"{name}: vLLM's [P, R] cos_sin_cache refused, cache untouched")


def main(argv=None):
    import torch

    import dsv4

    args = objects.proof_arguments(__doc__.splitlines()[0], argv)
    found = [m for m, _, _ in objects.in_folders(args.objects, objects.PTX_TARGET)
             if serves_vllm(m)]
    verdict(bool(found), f"kernels for vLLM's main cache in {' '.join(args.objects)}: "
                         f"{len(found)}")
    for m in found:
        config = dsv4.Config.from_manifest(m)
        try:
            kernel = dsv4.get_kernel(config, DEVICE)
        except (dsv4.KernelNotFound, dsv4.Dsv4Error, ValueError) as e:
            verdict(False, f"{m['kernel']}: not in the library the adapter searches: {e}")
            continue
        for k, items in enumerate(QUICK_SIZES if args.quick else SIZES):
            batch = compress_proof.random_batch(m, items, args.seed + items, k % 2 == 1, DEVICE)
            check_batch(m, kernel, config, batch, k)
            del batch
            torch.cuda.empty_cache()
    print(f"===== vllm adapter proof: {len(failures)} failed", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
