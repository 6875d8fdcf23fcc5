"""Proof on the GPU of torch.ops.dsv4.compress_norm_rope_hadamard_: for every kernel of this GPU in
the library (scripts/run's output folder with its index.json), the op called eagerly, under
torch.compile(fullgraph=True), and replayed from a captured CUDA graph (also on new data written into
the captured buffers), each judged against float64 with check_numerics' bounds; and a call whose
ratio no kernel has is refused with kv untouched.

And of torch.ops.dsv4.compress_norm_rope_quantize_store_: for every f32 store kernel of the
library (its store/ folder), on store_proof.py's edge batch and random batches, the same three
ways of calling it, every byte of a patterned cache against store_torch.expected_cache of the
rows the in-place op finishes; and a call of a page size no kernel has is refused with the cache
untouched.

Run from the repo root with the shim built (run_torch_op_proof.sh does all of it):
  DSV4_RUNTIME_LIB=/tmp/rt/lib/libdsv4_runtime.so DSV4_KERNEL_DIR=out PYTHONPATH=python \\
    python3 device/torch_op_proof.py [--seed S]
Prints one line per check and `N passed, N failed`; exits 1 on any failure.
"""
import argparse
import sys
import time

import check_numerics
import store_proof
from dsv4_reference import epilogue_torch
from dsv4_reference.store_model import Layout

SIZES = (1, 7, 64, 4096)
STORE_SIZES = (1, 64, 4096)  # random batches, after store_proof's edge batch
DEVICE = "cuda"


def op_call(case):
    """The arguments of the op for a check_numerics.Case (freqs as complex64, as frameworks hold it)."""
    import torch

    m = case.m
    return (case.kv(), case.weight, case.freqs.view(torch.complex64), case.handle,
            m["eps"], m["ratio"], m["rotate"])


def check_manifest(m, gen, report):
    import torch

    import dsv4.torch_ops

    op = torch.ops.dsv4.compress_norm_rope_hadamard_
    # One lambda serves every kernel: without a reset its guards pile up per configuration and
    # size until dynamo's recompile limit fails the fullgraph call.
    torch._dynamo.reset()
    compiled = torch.compile(lambda *args: dsv4.torch_ops.compress_norm_rope_hadamard_(*args),
                             fullgraph=True)
    for n in SIZES:
        label = f"{m['kernel']} items={n}"
        case = check_numerics.Case(m, n, m["head_dim"], gen, DEVICE)

        op(*op_call(case))
        torch.cuda.synchronize()
        eager = case.store.clone()
        report(*check(case, None), f"{label} eager")

        case.restore()
        compiled(*op_call(case))
        torch.cuda.synchronize()
        report(*check(case, eager), f"{label} torch.compile(fullgraph=True)")

        # Capture once (the compiled call, warmed up above), then replay on the restored inputs
        # and on new inputs written into the same buffers: the graph must read live memory.
        case.restore()
        graph = torch.cuda.CUDAGraph()
        args = op_call(case)
        with torch.cuda.graph(graph):
            compiled(*args)
        case.restore()  # capture does not run the kernel; start from the inputs anyway
        graph.replay()
        torch.cuda.synchronize()
        report(*check(case, eager), f"{label} CUDA graph replay")

        # New values wherever the case holds data; the NaN poison stays where it is.
        noise = torch.randn(case.before.shape, generator=gen).to(case.before.dtype)
        case.before.copy_(torch.where(torch.isnan(case.before), case.before, noise.to(DEVICE)))
        case.weight.copy_(0.5 + torch.rand(case.weight.shape, generator=gen).to(DEVICE))
        case.restore()
        graph.replay()
        torch.cuda.synchronize()
        report(*check(case, None), f"{label} CUDA graph replay, new data")


def check(case, expected):
    """check_numerics.judge, plus bitwise equality with the eager result when given."""
    ok, detail = check_numerics.judge(case)
    if expected is not None:
        same = epilogue_torch.same_bits(case.store, expected, case.m["kv_dtype"])
        ok, detail = ok and same, f"{detail} eager={'same' if same else 'DIFFERS'}"
    return ok, detail


def check_refusal(m, gen, report):
    """A ratio no library kernel has: the op raises and writes nothing (on a GPU machine without
    dsv4-opt nothing can be compiled)."""
    import torch

    case = check_numerics.Case(m, 7, m["head_dim"], gen, DEVICE)
    args = list(op_call(case))
    args[5] = m["ratio"] + 1
    try:
        torch.ops.dsv4.compress_norm_rope_hadamard_(*args)
        outcome = "no error raised"
    except Exception as e:  # noqa: BLE001 - the message is what is judged
        outcome = f"{type(e).__name__}: {str(e).splitlines()[0][:200]}"
    torch.cuda.synchronize()
    untouched = check_numerics.untouched_mismatches(case) == 0 and epilogue_torch.same_bits(
        case.store, case.before, m["kv_dtype"])
    ok = f"ratio={m['ratio'] + 1}" in outcome and untouched
    report(ok, f"{m['kernel']} refuse ratio {m['ratio'] + 1}",
           f"{outcome}; kv {'untouched' if untouched else 'WRITTEN'}")


class StoreCall:
    """One batch of store_proof (edge or random) as the store op's arguments, with the cache
    and rows SPEC.md expects from the in-place op's finished rows."""

    def __init__(self, m, batch, cache_bytes, weight, freqs):
        import torch

        self.m, self.batch, self.weight = m, batch, weight
        self.layout = Layout(m["layout"], m["page_size"])
        self.freqs_cis = freqs.view(torch.complex64)  # as frameworks hold it
        self.before = store_proof.pattern(cache_bytes)
        self.cache = self.before.clone()

    def args(self):
        m, b = self.m, self.batch
        return (b.kv, self.weight, self.freqs_cis, b.handle, b.out_loc, self.cache, m["eps"],
                m["ratio"], m["rotate"], m["layout"], m["page_size"])

    def expected(self):
        """(expected cache, which items store) for the current kv: its rows finished by the
        in-place op on a copy."""
        import torch

        m, b = self.m, self.batch
        finished = b.kv.clone()
        torch.ops.dsv4.compress_norm_rope_hadamard_(finished, self.weight,
                                                    torch.view_as_real(self.freqs_cis).flatten(-2),
                                                    b.handle, m["eps"], m["ratio"], m["rotate"])
        return store_proof.expected_store(self.layout, b, self.before, finished[b.rows],
                                          store_proof.fp8_flavour(self.m))

    def judge(self, want, stores, eager=None):
        """compare_cache, plus byte equality with the eager call's cache when given."""
        flavour = store_proof.fp8_flavour(self.m)
        ok, detail = store_proof.compare_cache(self.cache, want, stores, self.layout, flavour)
        if eager is not None:
            same = bool((self.cache == eager).all())
            ok, detail = ok and same, f"{detail} eager={'same' if same else 'DIFFERS'}"
        return ok, detail

    def reset(self):
        self.cache.copy_(self.before)


def store_batches(m, layout, seed):
    """(label, batch, cache_bytes): store_proof's edge batch, then random ones of STORE_SIZES."""
    yield ("edge", *store_proof.edge_batch(m, layout))
    for items in STORE_SIZES:
        yield (f"random {items}", *store_proof.random_batch(m, layout, items, seed + items))


def check_store_manifest(m, gen, seed, report):
    import torch

    import dsv4.torch_ops

    torch._dynamo.reset()  # as check_manifest: one lambda, guards per configuration and size
    compiled = torch.compile(
        lambda *args: dsv4.torch_ops.compress_norm_rope_quantize_store_(*args), fullgraph=True)
    layout = Layout(m["layout"], m["page_size"])
    weight = (0.5 + torch.rand(m["head_dim"], generator=gen)).to(DEVICE)
    freqs = epilogue_torch.random_freqs(store_proof.NUM_POSITIONS, m["rope_dim"], gen, DEVICE)
    for label, batch, cache_bytes in store_batches(m, layout, seed):
        label = f"{m['kernel']} {label}"
        call = StoreCall(m, batch, cache_bytes, weight, freqs)
        want, stores = call.expected()

        dsv4.torch_ops.compress_norm_rope_quantize_store_(*call.args())
        torch.cuda.synchronize()
        eager = call.cache.clone()
        report(*call.judge(want, stores), f"{label} eager")

        call.reset()
        compiled(*call.args())
        torch.cuda.synchronize()
        report(*call.judge(want, stores, eager), f"{label} torch.compile(fullgraph=True)")

        # Capture the compiled call (warmed up above), replay it on the reset cache, then on new
        # kv written into the captured buffer: the graph must read and write live memory.
        call.reset()
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            compiled(*call.args())
        call.reset()
        graph.replay()
        torch.cuda.synchronize()
        report(*call.judge(want, stores, eager), f"{label} CUDA graph replay")

        batch.kv.copy_(torch.randn(batch.kv.shape, generator=gen).to(DEVICE))
        want, stores = call.expected()
        call.reset()
        graph.replay()
        torch.cuda.synchronize()
        report(*call.judge(want, stores), f"{label} CUDA graph replay, new data")


def check_store_refusal(m, gen, report):
    """A page size no library kernel has: the op raises and the cache keeps every byte."""
    import torch

    import dsv4.torch_ops

    layout = Layout(m["layout"], m["page_size"])
    batch, cache_bytes = store_proof.edge_batch(m, layout)
    weight = (0.5 + torch.rand(m["head_dim"], generator=gen)).to(DEVICE)
    freqs = epilogue_torch.random_freqs(store_proof.NUM_POSITIONS, m["rope_dim"], gen, DEVICE)
    call = StoreCall(m, batch, cache_bytes, weight, freqs)
    args = list(call.args())
    args[-1] = 2 * m["page_size"]
    try:
        dsv4.torch_ops.compress_norm_rope_quantize_store_(*args)
        outcome = "no error raised"
    except Exception as e:  # noqa: BLE001 - the message is what is judged
        outcome = f"{type(e).__name__}: {str(e).splitlines()[0][:200]}"
    torch.cuda.synchronize()
    untouched = bool((call.cache == call.before).all())
    ok = f"page_size={args[-1]}" in outcome and untouched
    report(ok, f"{m['kernel']} refuse page size {args[-1]}",
           f"{outcome}; cache {'untouched' if untouched else 'WRITTEN'}")


def plan_checks(kernels):
    """(in-place manifests, store manifests) the proof checks among a chip's library kernels:
    every in-place kernel; the f32 decode and prefill store kernels (store_proof.py's batches
    are f32 and of those handles). A compress kernel has a layout too but reads the paged state,
    not kv rows, and sglang's kinds are sglang_proof.py's: not one of these."""
    in_place = [m for m in kernels if "layout" not in m]
    stores = [m for m in kernels if "layout" in m and m["kv_dtype"] == "f32"
              and m["mode"] in ("decode", "prefill")]
    return in_place, stores


class Tally:
    """One `PASS|FAIL  label  detail` line a check and the closing `N passed, N failed`, for
    this proof and sglang_proof.py."""

    def __init__(self):
        self.passed = self.failed = 0

    def report(self, ok, detail, label):
        self.passed, self.failed = self.passed + bool(ok), self.failed + (not ok)
        print(f"{'PASS' if ok else 'FAIL'}  {label}  {detail}", flush=True)

    def each(self, manifests, none_found, chip, check):
        """check(m) for every manifest (one failing check for none); an exception fails its
        kernel and the others still run."""
        if not manifests:
            self.report(False, none_found, chip)
        for m in manifests:
            try:
                check(m)
            except Exception as e:  # noqa: BLE001 - report and go on with the other kernels
                self.report(False, f"{type(e).__name__}: {e}", m["kernel"])

    def close(self):
        """Prints the counts; the exit status."""
        print(f"{self.passed} passed, {self.failed} failed", flush=True)
        return 1 if self.failed else 0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seed", type=int, help="reproduce an earlier run (default: from the clock)")
    p.add_argument("--list", metavar="CHIP",
                   help="print the kernels the proof would check for CHIP and exit (no torch)")
    args = p.parse_args(argv)
    if args.list:
        from dsv4 import library

        for kind, manifests in zip(("in-place", "store"),
                                   plan_checks(library.library_kernels(args.list))):
            for m in manifests:
                print(kind, m["kernel"])
        return 0
    import torch
    import dsv4.torch_ops  # noqa: F401 - registers torch.ops.dsv4
    from dsv4 import library

    seed = args.seed if args.seed is not None else time.time_ns() % 2**31
    chip = library.chip_of(torch.device(DEVICE))
    print(f"torch_op_proof: seed={seed} device={torch.cuda.get_device_name()} chip={chip} "
          f"torch={torch.__version__} libraries={[str(d) for d in library._library_dirs()]}", flush=True)
    gen = torch.Generator().manual_seed(seed)
    tally = Tally()
    in_place, stores = plan_checks(library.library_kernels(chip))
    tally.each(in_place, "no kernel in the libraries' index.json (run scripts/run, carry out/)",
               chip, lambda m: (check_manifest(m, gen, tally.report),
                                check_refusal(m, gen, tally.report)))
    tally.each(stores, "no f32 store kernel in the libraries' store/index.json (scripts/run)",
               chip, lambda m: (check_store_manifest(m, gen, seed, tally.report),
                                check_store_refusal(m, gen, tally.report)))
    return tally.close()


if __name__ == "__main__":
    sys.exit(main())
