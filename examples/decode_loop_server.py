"""The server of examples/decode_loop.py, for numpy or torch arrays: requests of different prompt
lengths through chunked prefill and decode steps, each compressor's paged state and compressed
caches, and every check of the run.

What the arrays cannot do themselves comes in a `kernels` object: store(layer, kv, handle,
out_loc) (the fused norm, rope, hadamard, quantize and paged store into layer.cache; torch.ops.dsv4
on the GPU), finish(layer, kv, handle) (the in-place epilogue), flavour(layer) (its store's FP8
type), capture(step) (run the decode step once as a warm-up, then return what replays it: a CUDA
graph on the GPU), step_kind (how the decode steps run, for the report) and sync(). `spec` is
SPEC.md's quantization (python/dsv4_reference/store_torch.py's functions: Layout, store_mask,
expected_cache, token_bytes).
"""
import decode_loop_model as model

DIM = 64                          # the small model's hidden size
EPS = 1e-6
PROMPT_LENS = (300, 100, 3, 200)  # ratio-128 rows in prefill and at decode steps 27 and 55
PREFILL_CHUNK = 128               # tokens a prefill batch, across requests
STATE_BLOCK = 16                  # tokens a state-cache block
ROPE_THETA = 10000.0


class Report:
    """One line per check; the totals of the byte-exact comparisons."""

    def __init__(self, out=print):
        self.out = out
        self.failed = self.compared = self.differ = 0

    def check(self, ok, line):
        self.out(f"{'ok  ' if ok else 'FAIL'} {line}")
        self.failed += not ok

    def bytes(self, verdict):
        ok, line, compared, differ = verdict
        self.compared += compared
        self.differ += differ
        return ok, line

    def summary(self):
        return (f"===== decode loop: {self.compared} bytes compared, {self.differ} differ, "
                f"{self.failed} checks failed")


def sentinel(ops, size):
    """A cache's bytes before any store: a pattern, so that a shifted write shows too."""
    return ops.as_u8((ops.arange(size) * 37 + 11) & 0xFF)


def rope_table(ops, positions, rope_dim):
    """The RoPE table [P, R] f32, cos and sin interleaved (the model's freqs_cis as float32)."""
    inv = ROPE_THETA ** (-(ops.f64(ops.arange(rope_dim // 2)) * 2) / rope_dim)
    angle = ops.f64(ops.arange(positions))[:, None] * inv[None, :]
    return ops.f32(ops.stack([ops.cos(angle), ops.sin(angle)], 2).reshape(positions, rope_dim))


class Layer:
    """One compressor: its weights, paged state cache, paged compressed cache, the bytes SPEC.md
    expects there so far, and what each storing item wrote."""

    def __init__(self, comp, ops, spec, kernels, total_lens, freqs, page_size, seed):
        self.comp, self.ops, self.spec, self.kernels = comp, ops, spec, kernels
        self.freqs, self.page_size = freqs, page_size
        self.w = model.random_weights(ops, comp, DIM)
        self.layout = spec.Layout(comp.layout, page_size)
        table, blocks = model.paged_table(total_lens, STATE_BLOCK, seed)
        self.state_table = ops.tensor(table, "i32")
        self.state = ops.zeros((blocks, STATE_BLOCK, 2 * comp.width), "f32")
        # One more row than the run finishes: a decode step between boundaries names the next.
        self.cache_table, pages = model.paged_table([n // comp.ratio + 1 for n in total_lens],
                                                    page_size, seed + 1)
        self.cache = sentinel(ops, pages * self.layout.page_bytes)
        self.want = ops.clone(self.cache)
        self.flavour = kernels.flavour(self)
        self.pooled, self.finished, self.out_loc, self.owners = [], [], [], []
        self.decode_kv = self.decode_out_loc = None  # the decode graph's static buffers

    def slot(self, request, position):
        return model.slot(self.cache_table, request,
                          model.compressed_index(position, self.comp.ratio), self.page_size)

    def expect(self, kv, handle, out_loc, owners, active, boundary):
        """After a store of `kv` (one row per item): the expected cache, SPEC.md's quantization
        of the rows the in-place epilogue finishes from the same rows; records what each storing
        item wrote and whose row it is (`owners`: (request, compressed row) per item)."""
        finished = self.ops.clone(kv)
        self.kernels.finish(self, finished, handle)
        stores = self.spec.store_mask(self.layout, out_loc, active, boundary,
                                      self.cache.shape[0])
        self.want = self.spec.expected_cache(self.layout, self.want, finished, out_loc, stores,
                                             self.flavour)
        keep = self.ops.nonzero(stores)
        self.pooled.append(kv[keep])
        self.finished.append(finished[keep])
        self.out_loc.append(out_loc[keep])
        self.owners += [owners[i] for i in self.ops.to_list(keep)]

    def compare(self, label):
        return model.bytes_verdict(self.ops, f"{self.comp.name} {label}", self.cache, self.want)


class PhaseCheck:
    """The per-launch byte checks of one layer in one phase: the first failing launch in full,
    then one line for the phase."""

    def __init__(self, report, layer, phase):
        self.report, self.layer, self.phase = report, layer, phase
        self.launches = self.compared = self.failures = 0

    def after_launch(self, label):
        ok, line = self.report.bytes(self.layer.compare(label))
        self.launches += 1
        self.compared += self.layer.cache.shape[0]
        if not ok and not self.failures:
            self.report.check(False, line)
        self.failures += not ok

    def close(self):
        self.report.check(self.failures == 0,
                          f"{self.layer.comp.name} {self.phase}: the whole cache after each of "
                          f"{self.launches} launches, {self.compared} bytes, "
                          f"{self.failures} launches with a difference")


def prefill(layers, ops, tokens, xs, checks):
    """One prefill batch: the tokens' state rows, then one plan item per window end."""
    rows = ops.tensor([1 + r for r, _ in tokens], "i64")
    positions = ops.tensor([p for _, p in tokens], "i64")
    x = ops.stack([xs[r][p] for r, p in tokens], 0)
    for layer in layers:
        c = layer.comp
        model.append_state(ops, c, layer.w, layer.state, layer.state_table, rows, positions, x)
        ends = [(r, p) for r, p in tokens if model.is_window_end(p, c.ratio)]
        if not ends:
            continue
        kv = ops.contiguous(model.pool(ops, c, layer.state, layer.state_table,
                                       ops.tensor([1 + r for r, _ in ends], "i64"),
                                       ops.tensor([p for _, p in ends], "i64")))
        # (row, batch_id, position, window_len): SPEC.md's prefill plan row.
        plan = ops.tensor([[m, r, p, min(c.window, p + 1)] for m, (r, p) in enumerate(ends)],
                          "i32")
        out_loc = ops.tensor([layer.slot(r, p) for r, p in ends], "i64")
        layer.kernels.store(layer, kv, plan, out_loc)
        every = ops.tensor([True] * len(ends), "bool")
        layer.expect(kv, plan, out_loc,
                     [(r, model.compressed_index(p, c.ratio)) for r, p in ends], every, every)
        checks[c.name].after_launch(f"prefill batch of {len(tokens)} tokens")


class DecodeBatch:
    """The decode step's static inputs: a row per request and a padding row (block-table row
    PADDING_ROW, seq_len 0, slot 0 of the reserved page 0), as a server pads a captured batch.
    A request between boundaries names the slot of its next row, so that an early store shows."""

    def __init__(self, ops, layers, requests):
        self.ops, self.size = ops, requests + 1
        self.x = ops.zeros((self.size, DIM), "f32")
        self.rows = ops.zeros((self.size,), "i64")
        self.positions = ops.zeros((self.size,), "i64")
        self.seq_lens = ops.zeros((self.size,), "i32")
        for layer in layers:
            layer.decode_kv = ops.zeros((self.size, layer.comp.head_dim), "f32")
            layer.decode_out_loc = ops.zeros((self.size,), "i64")

    def fill(self, layers, positions, xs):
        """New data in place: request r's token at positions[r] (empty: every row padding)."""
        ops, pad = self.ops, [0] * (self.size - len(positions))
        x = [xs[r][p] for r, p in enumerate(positions)] + [ops.zeros((DIM,), "f32")] * len(pad)
        self.x[...] = ops.stack(x, 0)
        self.rows[...] = ops.tensor([1 + r for r in range(len(positions))]
                                    + [model.PADDING_ROW] * len(pad), "i64")
        self.positions[...] = ops.tensor(list(positions) + pad, "i64")
        self.seq_lens[...] = ops.tensor([p + 1 for p in positions] + pad, "i32")
        for layer in layers:
            slots = [layer.slot(r, p) for r, p in enumerate(positions)]
            layer.decode_out_loc[...] = ops.tensor(slots + pad, "i64")


def decode_step(layers, ops, batch):
    """What the graph captures: per layer, the new tokens' state rows, the pooled rows into the
    static buffer, and the store (the kernel stores boundary rows only)."""
    for layer in layers:
        c = layer.comp
        model.append_state(ops, c, layer.w, layer.state, layer.state_table, batch.rows,
                           batch.positions, batch.x)
        layer.decode_kv[...] = model.pool(ops, c, layer.state, layer.state_table, batch.rows,
                                          batch.positions)
        layer.kernels.store(layer, layer.decode_kv, batch.seq_lens, layer.decode_out_loc)


def after_decode(layers, ops, batch, positions, checks, label):
    """The expected bytes of a decode step that ran on `positions` (one per request)."""
    active = batch.seq_lens > 0
    for layer in layers:
        c = layer.comp
        owners = [(r, model.compressed_index(p, c.ratio)) for r, p in enumerate(positions)]
        owners += [None] * (batch.size - len(positions))
        layer.expect(ops.clone(layer.decode_kv), ops.clone(batch.seq_lens),
                     ops.clone(layer.decode_out_loc), owners, active,
                     batch.seq_lens % c.ratio == 0)
        checks[c.name].after_launch(label)


def check_against_model(layer, ops, xs, freqs, report):
    """The rows and bytes of every storing item against the float64 transcription."""
    c, layout = layer.comp, layer.layout
    expected = {(r, k) for r, x in enumerate(xs) for k in range(x.shape[0] // c.ratio)}
    once = sorted(layer.owners) == sorted(expected)
    report.check(once, f"{c.name}: {len(layer.owners)} rows stored, each of the {len(expected)} "
                       f"compressed rows of the run exactly once")
    if not once or not layer.owners:
        return
    y64 = [model.model_pool(ops, c, layer.w, x) for x in xs]
    finished64 = [model.model_finish(ops, c, layer.w, y, ops.arange(y.shape[0]) * c.ratio, freqs,
                                     EPS) for y in y64]
    pick = lambda rows: ops.stack([rows[r][k] for r, k in layer.owners], 0)  # noqa: E731
    for what, got, want in (("pooled rows y", ops.cat(layer.pooled, 0), pick(y64)),
                            ("finished rows", ops.cat(layer.finished, 0), pick(finished64))):
        error = model.row_error(ops, got, want)
        report.check(error <= model.ROW_TOLERANCE,
                     f"{c.name}: {what} against the model in float64: largest error {error:.2e} "
                     f"of the row's max (<= {model.ROW_TOLERANCE:g})")
    row_at, scale_at, _ = layout.slot(ops.cat(layer.out_loc, 0))
    spans = lambda at, n: at[:, None] + ops.arange(n)[None, :]  # noqa: E731
    got = (layer.cache[spans(row_at, layout.row_bytes)],
           layer.cache[spans(scale_at, layout.scale_bytes)])
    want = layer.spec.token_bytes(layout, ops.f32(pick(finished64)), layer.flavour)
    row_max = ops.amax(ops.abs(ops.f64(pick(finished64))), 1)
    distance = model.code_distance(ops, layout, got, want, row_max)
    report.check(model.distance_verdict(layout, distance),
                 f"{c.name}: cache codes against SPEC.md's quantization of the float64 rows: "
                 f"{distance} (within one step)")


def corrupt(layer, report):
    """--corrupt: flip bit 0 of the first byte the run stored (byte 0 if it stored none)."""
    stored = layer.ops.to_list(layer.ops.cat(layer.out_loc, 0))
    first = int(layer.layout.slot(stored[0])[0]) if stored else 0
    layer.cache[first:first + 1] ^= 1
    report.out(f"--corrupt: flipped bit 0 of {layer.comp.name}'s cache byte {first}")


def run(ops, spec, kernels, names, steps, page_size, seed, report, corrupt_one=False):
    """The whole run of the compressors `names` (COMPRESSORS' keys), their caches of
    `page_size` tokens a page: prefill, `steps` decode steps through kernels.capture's step, the
    checks; with `corrupt_one`, one flipped cache byte before the final comparison. Returns the
    report."""
    total_lens = [n + steps for n in PROMPT_LENS]
    xs = [ops.randn((n, DIM)) for n in total_lens]  # every token's hidden state, up front
    freqs = rope_table(ops, max(total_lens), model.ROPE_DIM)
    layers = [Layer(model.COMPRESSORS[name], ops, spec, kernels, total_lens, freqs, page_size,
                    seed + k) for k, name in enumerate(names)]

    checks = {layer.comp.name: PhaseCheck(report, layer, "prefill") for layer in layers}
    for tokens in model.prefill_batches(PROMPT_LENS, PREFILL_CHUNK):
        prefill(layers, ops, tokens, xs, checks)
    kernels.sync()
    for check in checks.values():
        check.close()

    # Warm-up on an all-padding batch (it may write only the padding block of the state
    # cache), then the step as captured.
    batch = DecodeBatch(ops, layers, len(PROMPT_LENS))
    batch.fill(layers, [], xs)
    replay = kernels.capture(lambda: decode_step(layers, ops, batch))
    for layer in layers:
        report.check(*report.bytes(layer.compare("warm-up on a padding batch")))
    checks = {layer.comp.name: PhaseCheck(report, layer, f"decode ({kernels.step_kind})")
              for layer in layers}
    for step in range(steps):
        positions = [n + step for n in PROMPT_LENS]
        batch.fill(layers, positions, xs)
        replay()
        kernels.sync()
        after_decode(layers, ops, batch, positions, checks, f"decode step {step}")
    for check in checks.values():
        check.close()

    if corrupt_one:
        corrupt(layers[0], report)
    for layer in layers:
        report.check(*report.bytes(layer.compare("every cache byte at the end of the run")))
        check_against_model(layer, ops, xs, freqs, report)
    report.out(report.summary())
    return report
