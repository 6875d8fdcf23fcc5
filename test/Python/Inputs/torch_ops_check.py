"""torch.ops.dsv4.compress_norm_rope_hadamard_, compress_norm_rope_quantize_store_ and
compress_quantize_store_ without a GPU: their schemas and fake implementations
(torch.library.opcheck), and torch.compile(fullgraph=True) graphs around them that must see the
in-place update of kv or of the cache. The CPU kernels registered here are the float64 reference
of python/dsv4_reference/epilogue_torch.py and, for the stores, SPEC.md's cache bytes of those
rows (python/dsv4_reference/store_torch.py; the compress op's rows pooled by
examples/decode_loop_model.pool), for this test only: dsv4 itself runs on GPUs. Run with
PYTHONPATH naming python/ and device/ (store_proof.py's batches)."""
import os
import sys

import torch

sys.path.insert(0, os.path.join(sys.argv[1], "examples"))
import decode_loop_model  # noqa: E402
import store_proof  # noqa: E402
from dsv4_reference import epilogue_torch  # noqa: E402
from dsv4_reference.store_model import Layout  # noqa: E402

import dsv4.torch_ops  # noqa: E402,F401 - registers torch.ops.dsv4

op = torch.ops.dsv4.compress_norm_rope_hadamard_


@torch.library.register_kernel("dsv4::compress_norm_rope_hadamard_", "cpu")
def _reference_kernel(kv, weight, freqs_cis, plan, eps, ratio, rotate):
    freqs = torch.view_as_real(freqs_cis).flatten(-2) if freqs_cis.is_complex() else freqs_cis
    if plan.dim() == 1:
        items = epilogue_torch.decode_items(plan.tolist(), ratio, freqs.shape[0], kv.shape[0])
    else:
        items = epilogue_torch.prefill_items([tuple(r) for r in plan.tolist()], ratio,
                                        freqs.shape[0], kv.shape[0])
    if items:
        rows = torch.tensor([r for r, _ in items])
        positions = torch.tensor([p for _, p in items])
        y = epilogue_torch.epilogue(kv[rows], weight, eps, freqs, positions, freqs.shape[1], rotate,
                               kv.shape[1] ** -0.5)
        kv[rows] = y.to(kv.dtype)


@torch.library.register_kernel("dsv4::compress_norm_rope_quantize_store_", "cpu")
def _store_reference_kernel(kv, weight, freqs, plan, out_loc, cache, eps, ratio, rotate, layout,
                            page_size):
    finished = kv.clone()
    _reference_kernel(finished, weight, freqs, plan, eps, ratio, rotate)
    handle = {"seq_lens": plan} if plan.dim() == 1 else {"plan": plan}
    batch = store_proof.Batch({"mode": "decode" if plan.dim() == 1 else "prefill", "ratio": ratio},
                              kv, out_loc=out_loc[:plan.shape[0]], num_positions=freqs.shape[0],
                              **handle)
    want, _ = store_proof.expected_store(Layout(layout, page_size), batch, cache.clone(),
                                         finished[batch.rows], "fn")
    cache.copy_(want)


def inputs(mode, kv_dtype, d, gen):
    kv = torch.randn(9, d, generator=gen).to(kv_dtype)
    weight = 0.5 + torch.rand(d, generator=gen)
    theta = torch.rand(40, 32, generator=gen, dtype=torch.float64)
    freqs_cis = torch.polar(torch.ones_like(theta), theta).to(torch.complex64)  # [P, R/2], R = 64
    if mode == "decode":
        plan = torch.tensor([1, 6, 0, 17, 500, 9], dtype=torch.int32)
    else:
        plan = torch.tensor([[3, 0, 5, 1], [0, 1, 9, 1], [-1, 0, 4, 1], [7, 2, 33, 1]],
                            dtype=torch.int32)
    return kv, weight, freqs_cis, plan


def step(kv, weight, freqs_cis, plan):
    dsv4.torch_ops.compress_norm_rope_hadamard_(kv, weight, freqs_cis, plan, 1e-6, 4, True)
    return kv * 2  # reads kv after the op: the compiled graph must order it after the update


gen = torch.Generator().manual_seed(0)
for mode, kv_dtype, d in (("decode", torch.float32, 128), ("prefill", torch.bfloat16, 256)):
    args = inputs(mode, kv_dtype, d, gen)
    torch.library.opcheck(op, (*[a.clone() for a in args], 1e-6, 4, True))
    eager_kv = args[0].clone()
    eager = step(eager_kv, *args[1:])
    compiled_kv = args[0].clone()
    compiled = torch.compile(step, fullgraph=True, backend="aot_eager")(compiled_kv, *args[1:])
    print(mode, kv_dtype, "changed", not torch.equal(eager_kv, args[0]),
          "kv", torch.equal(compiled_kv, eager_kv), "result", torch.equal(compiled, eager))

# A bad call fails while tracing, in the fake implementation, with the op's own message.
kv, weight, freqs_cis, plan = inputs("decode", torch.float32, 128, gen)
torch._dynamo.reset()  # static shapes again, so the message names the sizes (torch 2.11 had s44)
try:
    torch.compile(step, fullgraph=True, backend="aot_eager")(kv, weight[:64], freqs_cis, plan)
    print("bad weight: no error")
except Exception as e:  # noqa: BLE001 - torch.compile wraps the op's ValueError
    print("bad weight:", "dsv4: weight must be f32/bf16 [128]" in str(e))


# The store: indexer (D=128, rotate) and main (D=512, no rotate) layouts at 16 tokens a page,
# decode (boundaries, a non-boundary, padding, a position past the table) and prefill; out_loc
# has a negative slot and one past the end of the 3-page cache.
PAGE_SIZE = 16
STORE_SEQ_LENS = [4, 6, 8, 0, 12, 16, 500, 20]
STORE_OUT_LOC = [0, 3, 17, -1, 33, 40, 2, 60]


def store_inputs(layout, mode, gen):
    d = Layout(layout, PAGE_SIZE).head_dim
    kv, weight, freqs_cis, plan = inputs(mode, torch.float32, d, gen)
    if mode == "decode":
        plan = torch.tensor(STORE_SEQ_LENS, dtype=torch.int32)
    out_loc = torch.tensor(STORE_OUT_LOC[:plan.shape[0]], dtype=torch.int64)
    cache = store_proof.pattern(3 * Layout(layout, PAGE_SIZE).page_bytes, "cpu")
    return kv, weight, freqs_cis, plan, out_loc, cache


def store_step(kv, weight, freqs_cis, plan, out_loc, cache, rotate, layout):
    dsv4.torch_ops.compress_norm_rope_quantize_store_(kv, weight, freqs_cis, plan, out_loc, cache,
                                                      1e-6, 4, rotate, layout, PAGE_SIZE)
    return cache.to(torch.int32).sum()  # reads the cache after the op


store_op = torch.ops.dsv4.compress_norm_rope_quantize_store_
for layout, rotate in (("indexer", True), ("main", False)):
    for mode in ("decode", "prefill"):
        kv, weight, freqs_cis, plan, out_loc, cache = store_inputs(layout, mode, gen)
        freqs = torch.view_as_real(freqs_cis).flatten(-2)
        torch.library.opcheck(store_op, (kv, weight, freqs, plan, out_loc, cache.clone(), 1e-6, 4,
                                         rotate, layout, PAGE_SIZE))
        kv_before = kv.clone()
        eager_cache = cache.clone()
        eager = store_step(kv, weight, freqs_cis, plan, out_loc, eager_cache, rotate, layout)
        compiled_cache = cache.clone()
        compiled = torch.compile(store_step, fullgraph=True, backend="aot_eager")(
            kv, weight, freqs_cis, plan, out_loc, compiled_cache, rotate, layout)
        print("store", layout, mode, "changed", int((eager_cache != cache).sum()) > 0,
              "cache", torch.equal(compiled_cache, eager_cache),
              "result", torch.equal(compiled, eager), "kv read only", torch.equal(kv, kv_before))

# Bad store calls fail while tracing, in the fake implementation, with the op's own message.
kv, weight, freqs_cis, plan, out_loc, cache = store_inputs("indexer", "decode", gen)
for what, (bad_out_loc, bad_cache, bad_layout), message in (
        ("float cache", (out_loc, cache.float(), "indexer"),
         "dsv4: cache must be a contiguous uint8 tensor of pages, got torch.float32"),
        ("int32 out_loc", (out_loc.int(), cache, "indexer"),
         "dsv4: out_loc must be a contiguous int64 [M] with M >= 8 items, got torch.int32 (8,)"),
        ("short out_loc", (out_loc[:3], cache, "indexer"),
         "dsv4: out_loc must be a contiguous int64 [M] with M >= 8 items, got torch.int64 (3,)"),
        ("layout", (out_loc, cache, "paged"),
         "layout 'paged' is not None (in place) or one of ('indexer', 'main', 'indexer_mxfp4')")):
    torch._dynamo.reset()  # static shapes again, so the message names the sizes
    try:
        torch.compile(store_step, fullgraph=True, backend="aot_eager")(
            kv, weight, freqs_cis, plan, bad_out_loc, bad_cache, True, bad_layout)
        print(f"bad {what}: no error")
    except Exception as e:  # noqa: BLE001 - torch.compile wraps the op's ValueError
        print(f"bad {what}:", message in str(e))


# The compress op: the indexer (D=128, ratio 4, overlapping windows: 2W = 512, rotate) over a
# state of 6 blocks of 4 rows, a block table whose blocks are out of order, two requests;
# boundary and non-boundary tokens, a window reaching below position 0, out_loc negative and
# past the cache. Its CPU kernel pools every item's window (SPEC.md "The compress step in
# front") and stores the boundary items' rows as the store op does, through a prefill plan of
# the pooled rows (RoPE at p + 1 - ratio).
@torch.library.register_kernel("dsv4::compress_quantize_store_", "cpu")
def _compress_reference_kernel(state, block_table, token_req, positions, weight, freqs, out_loc,
                               cache, eps, ratio, rotate, layout, page_size):
    comp = decode_loop_model.Compressor("check", layout, weight.shape[0], ratio, rotate,
                                        freqs.shape[1])
    rows = decode_loop_model.pool(decode_loop_model.TorchOps("cpu", 0), comp, state,
                                  block_table, token_req, positions)
    plan = torch.tensor([[t if (p + 1) % ratio == 0 else -1, 0, p, 1]
                         for t, p in enumerate(positions.tolist())], dtype=torch.int32)
    _store_reference_kernel(rows, weight, freqs, plan, out_loc, cache, eps, ratio, rotate, layout,
                            page_size)


def compress_inputs(gen):
    state = torch.randn(6, 4, 4 * 128, generator=gen)
    block_table = torch.tensor([[3, 1, 5, 0], [2, 4, 0, 1]], dtype=torch.int32)
    token_req = torch.tensor([0, 0, 1, 1, 0, 1], dtype=torch.int32)
    positions = torch.tensor([3, 6, 7, 11, 15, 2], dtype=torch.int64)
    weight = 0.5 + torch.rand(128, generator=gen)
    theta = torch.rand(40, 32, generator=gen, dtype=torch.float64)
    freqs_cis = torch.polar(torch.ones_like(theta), theta).to(torch.complex64)
    out_loc = torch.tensor([0, 5, 17, -1, 33, 60], dtype=torch.int64)
    cache = store_proof.pattern(3 * Layout("indexer", PAGE_SIZE).page_bytes, "cpu")
    return state, block_table, token_req, positions, weight, freqs_cis, out_loc, cache


def compress_step(state, block_table, token_req, positions, weight, freqs_cis, out_loc, cache):
    dsv4.torch_ops.compress_quantize_store_(state, block_table, token_req, positions, weight,
                                            freqs_cis, out_loc, cache, 1e-6, 4, True, "indexer",
                                            PAGE_SIZE)
    return cache.to(torch.int32).sum()  # reads the cache after the op


compress_op = torch.ops.dsv4.compress_quantize_store_
*compress_args, cache = compress_inputs(gen)
freqs = torch.view_as_real(compress_args[5]).flatten(-2)
torch.library.opcheck(compress_op, (*compress_args[:5], freqs, compress_args[6], cache.clone(),
                                    1e-6, 4, True, "indexer", PAGE_SIZE))
state_before = compress_args[0].clone()
eager_cache = cache.clone()
eager = compress_step(*compress_args, eager_cache)
compiled_cache = cache.clone()
compiled = torch.compile(compress_step, fullgraph=True, backend="aot_eager")(*compress_args,
                                                                            compiled_cache)
print("compress indexer changed", int((eager_cache != cache).sum()) > 0,
      "cache", torch.equal(compiled_cache, eager_cache), "result", torch.equal(compiled, eager),
      "state read only", torch.equal(compress_args[0], state_before))

# A state whose rows are neither 4D nor 2D floats fails while tracing, with the op's message.
torch._dynamo.reset()
try:
    torch.compile(compress_step, fullgraph=True, backend="aot_eager")(
        compress_args[0][..., :500], *compress_args[1:], cache.clone())
    print("bad compress state: no error")
except Exception as e:  # noqa: BLE001 - torch.compile wraps the op's ValueError
    print("bad compress state:", "dsv4: state must be float32 [blocks, block_size, 2W]" in str(e))
