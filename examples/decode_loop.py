#!/usr/bin/env python3
"""A decode loop that runs like a server, with dsv4's torch ops in place of the framework's kernels.

A small random-weight DeepSeek-V4 model's compressors (the indexer's, FP8 and MXFP4 caches, and
the main one at ratio 4 and 128) serve a few requests of different prompt lengths: chunked
prefill (the prefill kernel on a plan), then --steps decode steps, each appending one token per
request to the paged state cache and calling the decode kernel on a padded batch, captured once
in a CUDA graph and replayed on new data written into its static buffers, as sglang does. The
window pooling is torch (decode_loop_model.pool, read from the state cache through the block
table), then torch.ops.dsv4.compress_norm_rope_quantize_store_ writes the paged cache.

Checked, per compressor:
  - after every launch, every byte of the cache against SPEC.md's quantization
    (test/GPU/store_reference.py) of the rows torch.ops.dsv4.compress_norm_rope_hadamard_ finishes
    from the same pooled rows; a byte no slot names keeps its sentinel;
  - every compressed row of every request written exactly once over the run;
  - the pooled and finished rows against a float64 transcription of the model's compressor over
    each whole sequence (no state cache), within 1e-5 of each row's max, and the cache's codes
    within one step of SPEC.md's quantization of the float64 rows.
Prints one line per check and "N bytes compared, N differ"; exits 1 on any failure. --corrupt
flips one cache byte before the final comparison, which must then fail.

Run from the repo root (test/GPU/run_torch_op_proof.sh does):
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

DIM = 64                          # the small model's hidden size
EPS = 1e-6
PROMPT_LENS = (300, 100, 3, 200)  # ratio-128 rows in prefill and at decode steps 28 and 56
PREFILL_CHUNK = 128               # tokens a prefill batch, across requests
STATE_BLOCK = 16                  # tokens a state-cache block
ROPE_THETA = 10000.0
DEVICE = "cuda"


def spec_quantization():
    """test/GPU/store_reference.py, SPEC.md's cache bytes in torch (the device proof holds it
    byte-exact against test/Integration/store_model.py), imported as the test/GPU scripts do."""
    sys.path.insert(0, os.path.join(ROOT, "test", "GPU"))
    import store_reference
    return store_reference


class Report:
    """One line per check; the totals of the byte-exact comparisons."""

    def __init__(self):
        self.failed = self.compared = self.differ = 0

    def check(self, ok, line):
        print(f"{'ok  ' if ok else 'FAIL'} {line}", flush=True)
        self.failed += not ok

    def bytes(self, verdict):
        ok, line, compared, differ = verdict
        self.compared += compared
        self.differ += differ
        return ok, line


def sentinel(size):
    """A cache's bytes before any store: a pattern, so that a shifted write shows too."""
    import torch

    return ((torch.arange(size, device=DEVICE) * 37 + 11) & 0xFF).to(torch.uint8)


def rope_table(positions, rope_dim):
    """The RoPE table [P, R] f32, cos and sin interleaved (freqs_cis as float32)."""
    import torch

    inv = ROPE_THETA ** (-torch.arange(0, rope_dim, 2, dtype=torch.float64) / rope_dim)
    angle = torch.arange(positions, dtype=torch.float64)[:, None] * inv[None, :]
    table = torch.stack((angle.cos(), angle.sin()), dim=-1).reshape(positions, rope_dim)
    return table.to(torch.float32).to(DEVICE).contiguous()


def store_config(comp, mode, layout):
    from dsv4 import library

    return library.Config(mode=mode, head_dim=comp.head_dim, rope_dim=comp.rope_dim,
                          eps=EPS, ratio=comp.ratio, rotate=comp.rotate, layout=layout,
                          page_size=library.DEFAULT_PAGE_SIZE)


def fp8_flavour(comp, chip):
    """store_model's name of the FP8 type of the store kernel the op takes (None: e2m1)."""
    from dsv4 import library

    files = library.find_kernel(store_config(comp, "decode", comp.layout), chip)
    fp8_type = library.read_manifest(files.manifest).get("fp8_type")
    return None if fp8_type is None else "fnuz" if fp8_type == "f8E4M3FNUZ" else "fn"


class Layer:
    """One compressor on the GPU: its weights, paged state cache, paged compressed cache, the
    bytes SPEC.md expects there so far, and what each storing item wrote."""

    def __init__(self, comp, ops, spec, total_lens, chip, seed):
        import torch
        from dsv4 import library

        self.comp, self.ops, self.spec = comp, ops, spec
        self.w = model.random_weights(ops, comp, DIM)
        self.page_size = library.DEFAULT_PAGE_SIZE
        self.layout = spec.Layout(comp.layout, self.page_size)
        table, blocks = model.paged_table(total_lens, STATE_BLOCK, seed)
        self.state_table = torch.tensor(table, dtype=torch.int32, device=DEVICE)
        self.state = torch.zeros(blocks, STATE_BLOCK, 2 * comp.width, device=DEVICE)
        # One more row than the run finishes: a decode step between boundaries names the next.
        self.cache_table, pages = model.paged_table([n // comp.ratio + 1 for n in total_lens],
                                                    self.page_size, seed + 1)
        self.cache = sentinel(pages * self.layout.page_bytes)
        self.want = self.cache.clone()
        self.flavour = fp8_flavour(comp, chip)
        self.pooled, self.finished, self.out_loc, self.owners = [], [], [], []
        # The decode graph's static buffers of this layer: the pooled rows and the slots.
        self.decode_kv = None
        self.decode_out_loc = None

    def slot(self, request, position):
        return model.slot(self.cache_table, request,
                          model.compressed_index(position, self.comp.ratio), self.page_size)

    def store(self, kv, handle, out_loc, freqs):
        """The framework's call: dsv4's fused norm, rope, hadamard, quantize and paged store."""
        import torch

        c = self.comp
        torch.ops.dsv4.compress_norm_rope_quantize_store_(
            kv, self.w.norm, freqs, handle, out_loc, self.cache, EPS, c.ratio, c.rotate,
            c.layout, self.page_size)

    def expect(self, kv, handle, out_loc, owners, active, boundary, freqs):
        """After a store of `kv` (one row per item): the expected cache, from the rows the
        in-place op finishes from the same rows; records what each storing item wrote."""
        import torch

        c = self.comp
        finished = kv.clone()
        torch.ops.dsv4.compress_norm_rope_hadamard_(finished, self.w.norm, freqs, handle, EPS,
                                                    c.ratio, c.rotate)
        stores = self.spec.store_mask(self.layout, out_loc, active, boundary, self.cache.numel())
        self.want = self.spec.expected_cache(self.layout, self.want, finished, out_loc, stores,
                                             self.flavour)
        keep = stores.nonzero().flatten()
        self.pooled.append(kv[keep])
        self.finished.append(finished[keep])
        self.out_loc.append(out_loc[keep])
        self.owners += [owners[i] for i in keep.tolist()]

    def compare(self, label):
        return model.bytes_verdict(self.ops, f"{self.comp.name} {label}", self.cache, self.want)


class PhaseCheck:
    """The per-launch byte checks of one layer in one phase: the first failure in full, then one
    line for the phase."""

    def __init__(self, report, layer, phase):
        self.report, self.layer, self.phase = report, layer, phase
        self.launches = self.compared = self.failures = 0

    def after_launch(self, label):
        ok, line = self.report.bytes(self.layer.compare(label))
        self.launches += 1
        self.compared += self.layer.cache.numel()
        if not ok and not self.failures:
            self.report.check(False, line)
        self.failures += not ok

    def close(self):
        self.report.check(self.failures == 0,
                          f"{self.layer.comp.name} {self.phase}: the whole cache after each of "
                          f"{self.launches} launches, {self.compared} bytes, "
                          f"{self.failures} launches with a difference")


def prefill(layers, ops, tokens, xs, freqs, checks):
    """One prefill batch (eager): the tokens' state rows, then one plan item per window end."""
    import torch

    rows = torch.tensor([1 + r for r, _ in tokens], dtype=torch.int64, device=DEVICE)
    positions = torch.tensor([p for _, p in tokens], dtype=torch.int64, device=DEVICE)
    x = torch.stack([xs[r][p] for r, p in tokens])
    for layer in layers:
        c = layer.comp
        model.append_state(ops, c, layer.w, layer.state, layer.state_table, rows, positions, x)
        ends = [(r, p) for r, p in tokens if model.is_window_end(p, c.ratio)]
        if not ends:
            continue
        kv = model.pool(ops, c, layer.state, layer.state_table,
                        torch.tensor([1 + r for r, _ in ends], device=DEVICE),
                        torch.tensor([p for _, p in ends], device=DEVICE)).contiguous()
        # (row, batch_id, position, window_len): SPEC.md's prefill plan row.
        plan = torch.tensor([[m, r, p, min(c.window, p + 1)] for m, (r, p) in enumerate(ends)],
                            dtype=torch.int32, device=DEVICE)
        out_loc = torch.tensor([layer.slot(r, p) for r, p in ends], dtype=torch.int64,
                               device=DEVICE)
        layer.store(kv, plan, out_loc, freqs)
        every = torch.ones(len(ends), dtype=torch.bool, device=DEVICE)
        layer.expect(kv, plan, out_loc, [(r, model.compressed_index(p, c.ratio)) for r, p in ends],
                     every, every, freqs)
        checks[c.name].after_launch(f"prefill batch of {len(tokens)} tokens")


class DecodeBatch:
    """The decode step's static inputs: a row per request and a padding row (block-table row
    PADDING_ROW, seq_len 0, slot 0 of the reserved page 0), as a server pads a captured batch."""

    def __init__(self, layers, requests):
        import torch

        self.size = requests + 1
        self.x = torch.zeros(self.size, DIM, device=DEVICE)
        self.rows = torch.zeros(self.size, dtype=torch.int64, device=DEVICE)
        self.positions = torch.zeros(self.size, dtype=torch.int64, device=DEVICE)
        self.seq_lens = torch.zeros(self.size, dtype=torch.int32, device=DEVICE)
        for layer in layers:
            layer.decode_kv = torch.zeros(self.size, layer.comp.head_dim, device=DEVICE)
            layer.decode_out_loc = torch.zeros(self.size, dtype=torch.int64, device=DEVICE)

    def fill(self, layers, positions, xs):
        """New data in place: request r's token at positions[r] (None: every row padding)."""
        import torch

        pad = model.PADDING_ROW
        live = positions or []
        self.x.zero_()
        if live:
            self.x[:len(live)].copy_(torch.stack([xs[r][p] for r, p in enumerate(live)]))
        self.rows.copy_(torch.tensor([1 + r for r in range(len(live))] + [pad] * (self.size - len(live))))
        self.positions.copy_(torch.tensor(live + [0] * (self.size - len(live))))
        self.seq_lens.copy_(torch.tensor([p + 1 for p in live] + [0] * (self.size - len(live)),
                                         dtype=torch.int32))
        for layer in layers:
            slots = [layer.slot(r, p) for r, p in enumerate(live)]
            layer.decode_out_loc.copy_(torch.tensor(slots + [0] * (self.size - len(live))))


def decode_step(layers, ops, batch, freqs):
    """What the graph captures: per layer, the new tokens' state rows, the pooled rows into the
    static buffer, and the store (the kernel stores boundary rows only)."""
    for layer in layers:
        c = layer.comp
        model.append_state(ops, c, layer.w, layer.state, layer.state_table, batch.rows,
                           batch.positions, batch.x)
        layer.decode_kv.copy_(model.pool(ops, c, layer.state, layer.state_table, batch.rows,
                                         batch.positions))
        layer.store(layer.decode_kv, batch.seq_lens, layer.decode_out_loc, freqs)


def capture_decode(layers, ops, batch, freqs, report):
    """Warm up on an all-padding batch on a side stream (it may write only the padding block of
    the state cache), then capture one decode step."""
    import torch

    batch.fill(layers, None, None)
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(2):
            decode_step(layers, ops, batch, freqs)
    torch.cuda.current_stream().wait_stream(side)
    torch.cuda.synchronize()
    for layer in layers:
        report.check(*report.bytes(layer.compare("warm-up on a padding batch")))
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        decode_step(layers, ops, batch, freqs)
    return graph


def decode(layers, ops, batch, graph, step, xs, freqs, checks):
    """Decode step `step`: new tokens into the static buffers, replay, then the expected bytes."""
    import torch

    live = [n + step for n in PROMPT_LENS]
    batch.fill(layers, live, xs)
    graph.replay()
    torch.cuda.synchronize()
    active = batch.seq_lens > 0
    for layer in layers:
        c = layer.comp
        owners = [(r, model.compressed_index(p, c.ratio)) for r, p in enumerate(live)] + [None]
        layer.expect(layer.decode_kv.clone(), batch.seq_lens.clone(), layer.decode_out_loc.clone(),
                     owners, active, batch.seq_lens % c.ratio == 0, freqs)
        checks[c.name].after_launch(f"decode step {step}")


def check_against_model(layer, ops, xs, freqs, report):
    """The rows and bytes of every storing item against the float64 transcription."""
    import torch

    c, layout = layer.comp, layer.layout
    expected = {(r, k) for r, x in enumerate(xs) for k in range(x.shape[0] // c.ratio)}
    once = sorted(layer.owners) == sorted(expected)
    report.check(once, f"{c.name}: {len(layer.owners)} rows stored, each of the {len(expected)} "
                       f"compressed rows of the run exactly once")
    if not once or not layer.owners:
        return
    y64 = [model.model_pool(ops, c, layer.w, x) for x in xs]
    finished64 = [model.model_finish(ops, c, layer.w, y, freqs, EPS) for y in y64]
    pick = lambda rows: torch.stack([rows[r][k] for r, k in layer.owners])  # noqa: E731
    pooled, finished = torch.cat(layer.pooled), torch.cat(layer.finished)
    for what, got, want in (("pooled rows y", pooled, pick(y64)),
                            ("finished rows", finished, pick(finished64))):
        error = model.row_error(ops, got, want)
        report.check(error <= model.ROW_TOLERANCE,
                     f"{c.name}: {what} against the model in float64: largest error {error:.2e} "
                     f"of the row's max (<= {model.ROW_TOLERANCE:g})")
    out_loc = torch.cat(layer.out_loc)
    row_at, scale_at, _ = layout.slot(out_loc)
    spans = lambda at, n: at[:, None] + torch.arange(n, device=DEVICE)  # noqa: E731
    got = (layer.cache[spans(row_at, layout.row_bytes)],
           layer.cache[spans(scale_at, layout.scale_bytes)])
    want = layer.spec.token_bytes(layout, pick(finished64).to(torch.float32), layer.flavour)
    distance = model.code_distance(ops, layout, got, want)
    report.check(model.distance_verdict(layout, distance),
                 f"{c.name}: cache codes against SPEC.md's quantization of the float64 rows: "
                 f"{distance} (within one step)")


def corrupt(layer):
    """--corrupt: flip bit 0 of the first byte the run stored (byte 0 if it stored none)."""
    import torch

    stored = torch.cat(layer.out_loc)
    first = int(layer.layout.slot(int(stored[0]))[0]) if stored.numel() else 0
    layer.cache[first:first + 1] ^= 1
    print(f"--corrupt: flipped bit 0 of {layer.comp.name}'s cache byte {first}", flush=True)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--objects", nargs="+", required=True,
                   help="kernel libraries (scripts/run's output folder, indexed)")
    p.add_argument("--steps", type=int, default=64, help="decode steps (default 64)")
    p.add_argument("--seed", type=int, help="the model and tokens (default: from the clock)")
    p.add_argument("--layouts", nargs="+", choices=sorted(model.COMPRESSORS),
                   default=list(model.COMPRESSORS), help="the compressors to run (default all)")
    p.add_argument("--corrupt", action="store_true",
                   help="flip one cache byte before the final comparison (which must fail)")
    args = p.parse_args(argv)
    if args.steps < 1:
        p.error(f"--steps must be at least 1, got {args.steps}")
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
    ops, spec, report = model.TorchOps(DEVICE, seed), spec_quantization(), Report()
    total_lens = [n + args.steps for n in PROMPT_LENS]
    xs = [ops.randn((n, DIM)) for n in total_lens]  # every token's hidden state, up front
    freqs = rope_table(max(total_lens), model.ROPE_DIM)
    layers = [Layer(model.COMPRESSORS[name], ops, spec, total_lens, chip, seed + k)
              for k, name in enumerate(args.layouts)]

    checks = {layer.comp.name: PhaseCheck(report, layer, "prefill") for layer in layers}
    for tokens in model.prefill_batches(PROMPT_LENS, PREFILL_CHUNK):
        prefill(layers, ops, tokens, xs, freqs, checks)
    torch.cuda.synchronize()
    for check in checks.values():
        check.close()

    batch = DecodeBatch(layers, len(PROMPT_LENS))
    graph = capture_decode(layers, ops, batch, freqs, report)
    checks = {layer.comp.name: PhaseCheck(report, layer, "decode (CUDA graph replays)")
              for layer in layers}
    for step in range(args.steps):
        decode(layers, ops, batch, graph, step, xs, freqs, checks)
    for check in checks.values():
        check.close()

    if args.corrupt:
        corrupt(layers[0])
    for layer in layers:
        report.check(*report.bytes(layer.compare("every cache byte at the end of the run")))
        check_against_model(layer, ops, xs, freqs, report)
    print(f"===== decode loop: {report.compared} bytes compared, {report.differ} differ, "
          f"{report.failed} checks failed", flush=True)
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
