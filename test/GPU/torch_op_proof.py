"""Proof on the GPU of torch.ops.dsv4.compress_norm_rope_hadamard_: for every kernel of this GPU in
the library (scripts/run's output folder with its index.json), the op called eagerly, under
torch.compile(fullgraph=True), and replayed from a captured CUDA graph (also on new data written into
the captured buffers), each judged against float64 with check_numerics' bounds; and a call whose
ratio no kernel has is refused with kv untouched.

Run from the repo root with the shim built (run_torch_op_proof.sh does all of it):
  DSV4_RUNTIME_LIB=/tmp/rt/lib/libdsv4_runtime.so DSV4_KERNEL_DIR=out PYTHONPATH=python \\
    python3 test/GPU/torch_op_proof.py [--seed S]
Prints one line per check and `N passed, N failed`; exits 1 on any failure.
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_numerics  # noqa: E402
import reference  # noqa: E402

SIZES = (1, 7, 64, 4096)
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
        same = reference.same_bits(case.store, expected, case.m["kv_dtype"])
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
    untouched = check_numerics.untouched_mismatches(case) == 0 and reference.same_bits(
        case.store, case.before, m["kv_dtype"])
    ok = f"ratio={m['ratio'] + 1}" in outcome and untouched
    report(ok, f"{m['kernel']} refuse ratio {m['ratio'] + 1}",
           f"{outcome}; kv {'untouched' if untouched else 'WRITTEN'}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seed", type=int, help="reproduce an earlier run (default: from the clock)")
    args = p.parse_args(argv)
    import torch
    import dsv4.torch_ops  # noqa: F401 - registers torch.ops.dsv4
    from dsv4 import library

    seed = args.seed if args.seed is not None else time.time_ns() % 2**31
    chip = library.chip_of(torch.device(DEVICE))
    print(f"torch_op_proof: seed={seed} device={torch.cuda.get_device_name()} chip={chip} "
          f"torch={torch.__version__} libraries={[str(d) for d in library._library_dirs()]}", flush=True)
    gen = torch.Generator().manual_seed(seed)
    counts = {"passed": 0, "failed": 0}

    def report(ok, detail, label):
        counts["passed" if ok else "failed"] += 1
        print(f"{'PASS' if ok else 'FAIL'}  {label}  {detail}", flush=True)

    kernels = library.library_kernels(chip)
    if not kernels:
        report(False, "no kernel in the libraries' index.json (run scripts/run, carry out/)", chip)
    for m in kernels:
        try:
            check_manifest(m, gen, report)
            check_refusal(m, gen, report)
        except Exception as e:  # noqa: BLE001 - report and go on with the other kernels
            report(False, f"{type(e).__name__}: {e}", m["kernel"])
    print(f"{counts['passed']} passed, {counts['failed']} failed", flush=True)
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
