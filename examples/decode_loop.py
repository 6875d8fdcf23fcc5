#!/usr/bin/env python3
"""A decode loop that runs like a server, with dsv4's torch ops in place of the framework's kernels.

A small random-weight DeepSeek-V4 model's compressors (the indexer's, into its FP8 and its MXFP4
cache, and the main one at ratio 4 and 128) serve four requests of different prompt lengths:
chunked prefill (the prefill kernel on a plan), then --steps decode steps, each appending one
token per request to the paged state cache and calling the decode kernel on a padded batch,
captured once in a CUDA graph and replayed on new data written into its static buffers, as
sglang does. The window pooling is torch (decode_loop_model.pool, from the state cache through
the block table); torch.ops.dsv4.compress_norm_rope_quantize_store_ writes the paged caches.

The server and its checks are decode_loop_server.py, for numpy or torch arrays; this file holds
what only the GPU has: the torch ops and the CUDA graph. Checked, per compressor:
  - after every launch, every byte of the cache against SPEC.md's quantization
    (python/dsv4_reference/store_torch.py) of the rows torch.ops.dsv4.compress_norm_rope_hadamard_
    finishes from the same pooled rows; a byte no slot names keeps its sentinel;
  - every compressed row of every request stored exactly once over the run;
  - the pooled and finished rows against a float64 transcription of the model's compressor over
    each whole sequence (no state cache), within 1e-5 of each row's max, and the cache's codes
    within one step of SPEC.md's quantization of the float64 rows.
Prints one line per check and "N bytes compared, N differ"; exits 1 on any failure. --corrupt
flips one cache byte before the final comparison, which must then fail.

Run from the repo root (device/run_torch_op_proof.sh does):
  DSV4_RUNTIME_LIB=/tmp/rt/lib/libdsv4_runtime.so PYTHONPATH=python \\
    python3 examples/decode_loop.py --objects out [--steps N] [--seed S] [--layouts ...]
"""
import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.append(os.path.join(ROOT, "python"))  # the checkout's dsv4, unless one is installed
import decode_loop_model as model  # noqa: E402
import decode_loop_server as server  # noqa: E402

DEVICE = "cuda"


def spec_quantization():
    """python/dsv4_reference/store_torch.py, SPEC.md's cache bytes in torch (the device proof
    holds it byte-exact against python/dsv4_reference/store_model.py)."""
    from dsv4_reference import store_torch
    return store_torch


class TorchKernels:
    """dsv4's torch ops on the GPU, the decode step in a CUDA graph."""

    step_kind = "CUDA graph replays"

    def __init__(self, chip):
        self.chip = chip

    def store(self, layer, kv, handle, out_loc):
        import torch

        c = layer.comp
        torch.ops.dsv4.compress_norm_rope_quantize_store_(
            kv, layer.w.norm, layer.freqs, handle, out_loc, layer.cache, server.EPS, c.ratio,
            c.rotate, c.layout, layer.page_size)

    def finish(self, layer, kv, handle):
        import torch

        c = layer.comp
        torch.ops.dsv4.compress_norm_rope_hadamard_(kv, layer.w.norm, layer.freqs, handle,
                                                    server.EPS, c.ratio, c.rotate)

    def flavour(self, layer):
        """store_model's name of the FP8 type of the layer's store kernel (None: e2m1), from its
        manifest."""
        from dsv4 import library

        c = layer.comp
        config = library.Config(mode="decode", head_dim=c.head_dim, rope_dim=c.rope_dim,
                                eps=server.EPS, ratio=c.ratio, rotate=c.rotate, layout=c.layout,
                                page_size=layer.page_size)
        manifest = library.read_manifest(library.find_kernel(config, self.chip).manifest)
        fp8_type = manifest.get("fp8_type")
        return None if fp8_type is None else "fnuz" if fp8_type == "f8E4M3FNUZ" else "fn"

    def capture(self, step):
        """Warm up on a side stream (this also loads the decode kernels and sets up cuBLAS), then
        capture `step` once; the graph's replay."""
        import torch

        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(2):
                step()
        torch.cuda.current_stream().wait_stream(side)
        torch.cuda.synchronize()
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            step()
        return graph.replay

    def sync(self):
        import torch

        torch.cuda.synchronize()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--objects", nargs="+", required=True,
                   help="kernel libraries (scripts/run's output folder, indexed)")
    p.add_argument("--steps", type=int, default=64, help="decode steps (default 64)")
    p.add_argument("--seed", type=int, help="the model and tokens (default: from the clock)")
    p.add_argument("--layouts", nargs="+", choices=list(model.COMPRESSORS),
                   default=list(model.COMPRESSORS), help="the compressors to run (default all)")
    p.add_argument("--corrupt", action="store_true",
                   help="flip one cache byte before the final comparison (which must fail)")
    args = p.parse_args(argv)
    if args.steps < 1:
        p.error(f"--steps must be at least 1, got {args.steps}")
    if len(set(args.layouts)) != len(args.layouts):
        p.error(f"--layouts names a compressor twice: {' '.join(args.layouts)}")
    os.environ["DSV4_KERNEL_DIR"] = os.pathsep.join(os.path.abspath(d) for d in args.objects)

    import torch
    import dsv4.torch_ops  # noqa: F401 - registers torch.ops.dsv4
    from dsv4 import library

    torch.backends.cuda.matmul.allow_tf32 = False  # the projections in f32, as the model's
    seed = args.seed if args.seed is not None else time.time_ns() % 2**31
    chip = library.chip_of(torch.device(DEVICE))
    print(f"decode_loop: seed={seed} device={torch.cuda.get_device_name()} chip={chip} "
          f"torch={torch.__version__} steps={args.steps} layouts={' '.join(args.layouts)}",
          flush=True)
    report = server.run(model.TorchOps(DEVICE, seed), spec_quantization(), TorchKernels(chip),
                        args.layouts, args.steps, library.DEFAULT_PAGE_SIZE, seed,
                        server.Report(lambda line: print(line, flush=True)), args.corrupt)
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
