"""dsv4.torch_ops with the fake torch (test/Runtime/Inputs/fake_torch) and the fake HIP, where
torch is not installed: the store op takes the store kernel of its layout and page size from the
library and launches it with out_loc and the cache, the in-place op takes its twin; calls no
kernel serves, and bad arguments, are refused before any launch, by the op and by its fake
implementation alike; a tensor that breaks a rule of dsv4/arguments.py is refused with the rule's
one message by the plain call too."""
import functools

import dsv4
import dsv4.torch_ops
import torch

kv = torch.Tensor((40, 128), torch.float32, 0x1000)
weight = torch.Tensor((128,), torch.float32, 0x2000)
freqs_cis = torch.Tensor((4096, 32), torch.complex64, 0x3000)  # R = 64
freqs = torch.view_as_real(freqs_cis).flatten(-2)
seq_lens = torch.Tensor((33,), torch.int32, 0x4000)
out_loc = torch.Tensor((33,), torch.int64, 0x5000)
cache = torch.Tensor((3, 16 * 132), torch.uint8, 0x6000)  # three indexer pages of 16 tokens
store_op = torch.ops.dsv4.compress_norm_rope_quantize_store_
TWIN = dsv4.Config(mode="decode", head_dim=128)  # the in-place kernel beside the store


def attempt(what, fn, *args):
    try:
        fn(*args)
        print(what, "| ok")
    except (ValueError, dsv4.Dsv4Error, dsv4.KernelNotFound) as e:
        print(what, "|", type(e).__name__, str(e).split(": none in")[0])


attempt("store", dsv4.torch_ops.compress_norm_rope_quantize_store_, kv, weight, freqs_cis,
        seq_lens, out_loc, cache, 1e-6, 4, True, "indexer", 16)
# The plain Python entries take the op's arguments in its order up to eps (the rest of the
# configuration is the kernel's): the op's own arguments launch the same kernel alike.
store_kernel = dsv4.get_kernel(dsv4.Config(mode="decode", head_dim=128, layout="indexer",
                                           page_size=16), "gfx942")
attempt("plain store", functools.partial(dsv4.compress_norm_rope_quantize_store,
                                         kernel=store_kernel),
        kv, weight, freqs_cis, seq_lens, out_loc, cache, 1e-6)
attempt("in-place", dsv4.torch_ops.compress_norm_rope_hadamard_, kv, weight, freqs_cis, seq_lens,
        1e-6, 4, True)
attempt("plain in-place", functools.partial(dsv4.compress_norm_rope_hadamard_inplace,
                                            kernel=dsv4.get_kernel(TWIN, "gfx942")),
        kv, weight, freqs_cis, seq_lens, 1e-6)
attempt("page size 64", store_op, kv, weight, freqs, seq_lens, out_loc, cache, 1e-6, 4, True,
        "indexer", 64)
attempt("main layout", store_op, kv, weight, freqs, seq_lens, out_loc, cache, 1e-6, 4, True,
        "main", 16)
float_cache = torch.Tensor((3, 16 * 132), torch.float32, 0x6000)
short_out_loc = torch.Tensor((32,), torch.int64, 0x5000)
for impl in (store_op, store_op.fake):
    name = "fake" if impl is store_op.fake else "op"
    attempt(f"{name} float cache", impl, kv, weight, freqs, seq_lens, out_loc, float_cache,
            1e-6, 4, True, "indexer", 16)
    attempt(f"{name} short out_loc", impl, kv, weight, freqs, seq_lens, short_out_loc, cache,
            1e-6, 4, True, "indexer", 16)
    attempt(f"{name} page size 12", impl, kv, weight, freqs, seq_lens, out_loc, cache,
            1e-6, 4, True, "indexer", 12)
attempt("fake good", store_op.fake, kv, weight, freqs, seq_lens, out_loc, cache, 1e-6, 4, True,
        "indexer", 16)

# The compress op (the kernel of test/Runtime/Inputs/compress_f32.json in the library's store/:
# main layout, D 512, overlapping windows, blocks of 64 rows, no rotation): D from weight, the
# block size from the state, overlapping windows from its width 2W = 4D.
state = torch.Tensor((10, 64, 2048), torch.float32, 0x7000)
block_table = torch.Tensor((5, 7), torch.int32, 0x8000)
token_req = torch.Tensor((33,), torch.int32, 0x9000)
positions = torch.Tensor((33,), torch.int64, 0xa000)
weight512 = torch.Tensor((512,), torch.float32, 0x2000)
main_cache = torch.Tensor((7, 64 * 584), torch.uint8, 0x6000)
compress_args = (state, block_table, token_req, positions, weight512, freqs_cis, out_loc,
                 main_cache, 1e-6, 4, False, "main", 64)
compress_op = torch.ops.dsv4.compress_quantize_store_
attempt("compress", dsv4.torch_ops.compress_quantize_store_, *compress_args)
compress_kernel = dsv4.get_kernel(dsv4.Config(mode="compress", head_dim=512, rotate=False,
                                              layout="main", overlap=True, state_block_size=64),
                                  "gfx942")
attempt("plain compress", functools.partial(dsv4.compress_quantize_store, kernel=compress_kernel),
        *compress_args[:9])


def compress_with(**changes):
    names = ("state", "block_table", "token_req", "positions", "weight", "freqs", "out_loc",
             "cache", "eps", "ratio", "rotate", "layout", "page_size")
    args = dict(zip(names, compress_args), freqs=freqs)
    args.update(changes)
    return args.values()


attempt("compress no overlap", compress_op,
        *compress_with(state=torch.Tensor((10, 64, 1024), torch.float32, 0x7000)))
for impl in (compress_op, compress_op.fake):
    name = "fake" if impl is compress_op.fake else "op"
    attempt(f"{name} state width", impl,
            *compress_with(state=torch.Tensor((10, 64, 1000), torch.float32, 0x7000)))
    attempt(f"{name} state block size", impl,
            *compress_with(state=torch.Tensor((10, 48, 2048), torch.float32, 0x7000)))
    attempt(f"{name} int64 token_req", impl,
            *compress_with(token_req=torch.Tensor((33,), torch.int64, 0x9000)))
    attempt(f"{name} short positions", impl,
            *compress_with(positions=torch.Tensor((32,), torch.int64, 0xa000)))
    attempt(f"{name} float cache", impl, *compress_with(cache=float_cache))
attempt("fake compress good", compress_op.fake, *compress_with())


# One rule, both entries (dsv4/arguments.py): a bad tensor is refused by the plain call
# (Dsv4Error with its status), by the op and by its fake implementation (ValueError), all three
# with the rule's one message, before any launch.
def refused(what, plain, op, args, op_args):
    seen = []
    for fn, fn_args in ((plain, args), (op, args + op_args), (op.fake, args + op_args)):
        try:
            fn(*fn_args)
            seen.append(("accepted", None))
        except dsv4.Dsv4Error as e:
            seen.append((e.status, str(e)[len(e.status) + 2:]))
        except ValueError as e:
            seen.append(("ValueError", str(e).removeprefix("dsv4: ")))
    messages = {message for _, message in seen}
    print(what, "|", " ".join(kind for kind, _ in seen), "|",
          messages.pop() if len(messages) == 1 else sorted(map(str, messages)))


plain_store = functools.partial(dsv4.compress_norm_rope_quantize_store, kernel=store_kernel)
store_args = dict(kv=kv, weight=weight, freqs=freqs, plan=seq_lens, out_loc=out_loc, cache=cache,
                  eps=1e-6)
for what, bad in (
        ("kv 3-D", dict(kv=torch.Tensor((2, 40, 128), torch.float32, 0x1000))),
        ("kv f64", dict(kv=torch.Tensor((40, 128), "float64", 0x1000))),
        ("weight strided", dict(weight=torch.Tensor((128,), torch.float32, 0x2000, strides=(2,)))),
        ("weight short", dict(weight=torch.Tensor((64,), torch.float32, 0x2000))),
        ("weight f16", dict(weight=torch.Tensor((128,), torch.float16, 0x2000))),
        ("freqs f64", dict(freqs=torch.Tensor((4096, 64), "float64", 0x3000))),
        ("freqs strided", dict(freqs=torch.Tensor((4096, 64), torch.float32, 0x3000,
                                                  strides=(128, 2)))),
        ("plan [M, 3]", dict(plan=torch.Tensor((33, 3), torch.int32, 0x4000))),
        ("seq_lens strided", dict(plan=torch.Tensor((33,), torch.int32, 0x4000, strides=(2,)))),
        ("out_loc strided", dict(out_loc=torch.Tensor((33,), torch.int64, 0x5000, strides=(2,)))),
        ("int8 cache", dict(cache=torch.Tensor((3, 16 * 132), torch.int8, 0x6000)))):
    refused(what, plain_store, store_op, tuple(dict(store_args, **bad).values()),
            (4, True, "indexer", 16))
plain_compress = functools.partial(dsv4.compress_quantize_store, kernel=compress_kernel)
for what, bad in (
        ("state 2-D", dict(state=torch.Tensor((64, 2048), torch.float32, 0x7000))),
        ("block_table strided", dict(block_table=torch.Tensor((5, 7), torch.int32, 0x8000,
                                                              strides=(16, 2)))),
        ("token_req strided", dict(token_req=torch.Tensor((33,), torch.int32, 0x9000,
                                                          strides=(2,)))),
        ("int32 positions", dict(positions=torch.Tensor((33,), torch.int32, 0xa000))),
        ("compress weight strided", dict(weight=torch.Tensor((512,), torch.float32, 0x2000,
                                                             strides=(2,))))):
    args = tuple(compress_with(**bad))
    refused(what, plain_compress, compress_op, args[:9], args[9:])
