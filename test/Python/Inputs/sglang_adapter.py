"""dsv4.frameworks.sglang with the fake torch and the fake HIP: sglang's call, argument for
argument, launches the store kernel of its plan's kind with sglang's own plan structs (the
pointer of plan[1], read in place), out_loc and the cache; what dsv4 has no kernel for, or a
plan that is not sglang's, is refused before any launch."""
import collections

import dsv4
from dsv4.frameworks import sglang
import torch

# sglang's plan tuples (sglang.jit_kernel.dsv4.compress): element 1 is the struct tensor.
DecodePlan = collections.namedtuple("CompressorDecodePlan", "compress_ratio plan_d")
DecodePlan.is_decode = property(lambda self: True)
PrefillPlan = collections.namedtuple("CompressorPrefillPlan",
                                     "compress_ratio plan_c plan_w pin_buffer")
PrefillPlan.is_decode = property(lambda self: False)

kv = torch.Tensor((40, 128), torch.float32, 0x1000)
weight = torch.Tensor((128,), torch.float32, 0x2000)
freq_cis = torch.Tensor((4096, 32), torch.complex64, 0x3000)  # R = 64
out_loc = torch.Tensor((40,), torch.int64, 0x5000)
kvcache = torch.Tensor((3, 16 * 132), torch.uint8, 0x6000)  # three indexer pages of 16 tokens
decode = DecodePlan(4, torch.Tensor((40, 16), torch.uint8, 0x7000))
extend = PrefillPlan(4, torch.Tensor((40, 16), torch.uint8, 0x8000),
                     torch.Tensor((40, 8), torch.uint8, 0x9000), None)


def attempt(what, plan, **changes):
    args = dict(norm_weight=weight, norm_eps=1e-6, freq_cis=freq_cis, out_loc=out_loc,
                kvcache=kvcache, page_size=16)
    args.update(changes)
    tensor = args.pop("kv", kv)
    try:
        sglang.compress_norm_rope_store(tensor, plan, **args)
        print(what, "| ok")
    except (ValueError, dsv4.Dsv4Error, dsv4.KernelNotFound) as e:
        print(what, "|", type(e).__name__, str(e).split(": none in")[0])


attempt("decode", decode)
attempt("extend", extend)
attempt("use_fp4", decode, use_fp4=True)
attempt("bf16_store", decode, bf16_store=True)
attempt("int32 out_loc", decode, out_loc=torch.Tensor((40,), torch.int32, 0x5000))
attempt("int16 out_loc", decode, out_loc=torch.Tensor((40,), "int16", 0x5000))
attempt("D 256", decode, kv=torch.Tensor((40, 256), torch.float32, 0x1000))
attempt("plan int32", DecodePlan(4, torch.Tensor((40, 4), torch.int32, 0x7000)))
attempt("plan [N, 24]", DecodePlan(4, torch.Tensor((40, 24), torch.uint8, 0x7000)))
attempt("plan rows", DecodePlan(4, torch.Tensor((41, 16), torch.uint8, 0x7000)))
attempt("short out_loc", extend, out_loc=torch.Tensor((39,), torch.int64, 0x5000))
attempt("ratio 128", DecodePlan(128, decode.plan_d))
