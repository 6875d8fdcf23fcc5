"""torch.ops.dsv4.compress_norm_rope_hadamard_ without a GPU: its schema and fake implementation
(torch.library.opcheck), and a torch.compile(fullgraph=True) graph around it that must see the
in-place update. The CPU kernel registered here is the float64 reference of test/GPU/reference.py,
for this test only: dsv4 itself runs on GPUs."""
import os
import sys

import torch

sys.path.insert(0, os.path.join(sys.argv[1], "test", "GPU"))
import reference  # noqa: E402

import dsv4.torch_ops  # noqa: E402,F401 - registers torch.ops.dsv4

op = torch.ops.dsv4.compress_norm_rope_hadamard_


@torch.library.register_kernel("dsv4::compress_norm_rope_hadamard_", "cpu")
def _reference_kernel(kv, weight, freqs_cis, plan, eps, ratio, rotate):
    freqs = torch.view_as_real(freqs_cis).flatten(-2) if freqs_cis.is_complex() else freqs_cis
    if plan.dim() == 1:
        items = reference.decode_items(plan.tolist(), ratio, freqs.shape[0], kv.shape[0])
    else:
        items = reference.prefill_items([tuple(r) for r in plan.tolist()], ratio,
                                        freqs.shape[0], kv.shape[0])
    if items:
        rows = torch.tensor([r for r, _ in items])
        positions = torch.tensor([p for _, p in items])
        y = reference.epilogue(kv[rows], weight, eps, freqs, positions, freqs.shape[1], rotate,
                               kv.shape[1] ** -0.5)
        kv[rows] = y.to(kv.dtype)


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
try:
    torch.compile(step, fullgraph=True, backend="aot_eager")(kv, weight[:64], freqs_cis, plan)
    print("bad weight: no error")
except Exception as e:  # noqa: BLE001 - torch.compile wraps the op's ValueError
    print("bad weight:", "dsv4: weight must be f32/bf16 [128]" in str(e))
