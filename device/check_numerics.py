"""Proof on the GPU: every PTX kernel in the objects directory, launched through the runtime shim,
against the float64 reference, on fresh random inputs with poisoned memory around them.

Run from the repo root, with the shim built (run_device_proof.sh does all of it):
  DSV4_RUNTIME_LIB=/tmp/rt/lib/libdsv4_runtime.so PYTHONPATH=python python3 device/check_numerics.py
  options: [--objects out] [--quick] [--seed S]
Prints one line per case and `N passed, N failed, N skipped`; exits 1 on any failure.
"""
import argparse
import os
import sys
import time

import objects
from dsv4_reference import epilogue_torch

# The configurations the proof must cover; absent ones are reported as skipped.
EXPECTED = [(mode, rotate, kv, d, 64)
            for mode in ("decode", "prefill") for rotate in (True, False)
            for kv in ("f32", "bf16") for d in (512, 128)]
SIZES = (1, 7, 64, 4096)
QUICK_SIZES = (1, 7, 64)
EXTRA_ROWS = 5          # kv rows past the work items that no item names: must stay poisoned
NUM_POSITIONS = 1027    # a multiple of neither ratio, so the last valid position is a partial step
STRIDE_PAD = 8          # extra elements per kv / freqs row in the padded cases (rounded to the manifest)
PLAN_STRIDE_PADDED = 8  # i32 per plan row in the padded cases: the 16-byte plan struct, then junk
PLAN_JUNK = -7
POISON_BITS = {"f32": 0x7FC0DEAD, "bf16": 0x7FC1, "f16": 0x7E01}  # quiet NaNs: a read of them shows
DEVICE = "cuda"


class Case:
    """One launch's inputs: the work items, the kv storage (poisoned) and what the kernel must do."""

    def __init__(self, m, num_items, stride, gen, device):
        """stride: kv row stride in elements; a stride above D also pads the freqs and plan rows."""
        import torch

        self.m, self.num_items = m, num_items
        d, ratio, kv_name = m["head_dim"], m["ratio"], m["kv_dtype"]
        num_rows = num_items + EXTRA_ROWS
        if m["mode"] == "decode":
            seq_lens = decode_seq_lens(num_items, ratio, gen)
            self.items = epilogue_torch.decode_items(seq_lens, ratio, NUM_POSITIONS, num_rows)
            self.handle = torch.tensor(seq_lens, dtype=torch.int32, device=device)
            named = range(num_items)
        else:
            plan = prefill_plan(num_items, num_rows, ratio, gen)
            self.items = epilogue_torch.prefill_items(plan, ratio, NUM_POSITIONS, num_rows)
            plan_stride = PLAN_STRIDE_PADDED if stride > d else 4
            rows = torch.full((num_items, plan_stride), PLAN_JUNK, dtype=torch.int32)
            rows[:, :4] = torch.tensor(plan, dtype=torch.int32).reshape(num_items, 4)  # also when empty
            self.handle = rows.to(device)[:, :4]
            named = [p[0] for p in plan if p[0] >= 0]

        # Every element starts as NaN; rows an item names get random data of random magnitude in
        # their first D elements. The padding columns and the never-named rows stay NaN.
        bits = torch.full((num_rows, stride), POISON_BITS[kv_name], dtype=torch.int64)
        store = bits.to(epilogue_torch.bits_dtype(kv_name)).view(epilogue_torch.torch_dtype(kv_name))
        named = sorted(set(named))
        if named:
            mag = 10.0 ** (4 * torch.rand(len(named), 1, generator=gen) - 2)
            data = torch.randn(len(named), d, generator=gen) * mag
            store[named, :d] = data.to(store.dtype)
        self.store = store.to(device)
        self.before = self.store.clone()
        self.weight = (0.5 + torch.rand(d, generator=gen)).to(epilogue_torch.torch_dtype(m["weight_dtype"])).to(device)
        self.freqs = padded_freqs(m, stride > d, gen, device)

    def kv(self):
        return self.store[:, :self.m["head_dim"]]

    def launch(self, runtime, kernel, *, freqs_complex=False, kv=None):
        import torch

        freqs = self.freqs.view(torch.complex64) if freqs_complex else self.freqs
        runtime.compress_norm_rope_hadamard_inplace(
            self.kv() if kv is None else kv, self.weight, freqs, self.handle, self.m["eps"],
            kernel=kernel)

    def restore(self):
        self.store.copy_(self.before)


def decode_seq_lens(num_items, ratio, gen):
    """Random valid seq_lens, with (when there is room) one padding item, one item whose position
    falls past the table, and the two boundary positions 0 and the last one."""
    import torch

    seq_lens = torch.randint(1, NUM_POSITIONS + 1, (num_items,), generator=gen).tolist()
    specials = [0, NUM_POSITIONS + ratio, 1, NUM_POSITIONS] if num_items >= 7 else [0, NUM_POSITIONS + ratio]
    if num_items >= 3:
        for slot, value in zip(torch.randperm(num_items, generator=gen).tolist(), specials):
            seq_lens[slot] = value
    return seq_lens


def prefill_plan(num_items, num_rows, ratio, gen):
    """Plan rows (row, batch_id, position, window_len) naming distinct random rows, with (when there
    is room) a skipped row -1 and positions below 0 and at P."""
    import torch

    rows = torch.randperm(num_rows, generator=gen)[:num_items].tolist()
    pos = torch.randint(0, NUM_POSITIONS, (num_items,), generator=gen).tolist()
    if num_items >= 4:
        slots = torch.randperm(num_items, generator=gen).tolist()
        rows[slots[0]] = -1
        pos[slots[1]] = -1
        pos[slots[2]] = NUM_POSITIONS
    batch = torch.randint(0, 64, (num_items,), generator=gen).tolist()
    window = torch.randint(1, 4096, (num_items,), generator=gen).tolist()
    return [(r, b, p + ratio - 1, w) for r, b, p, w in zip(rows, batch, pos, window)]


def padded_freqs(m, padded, gen, device):
    """The [P, R] RoPE table; when padded, a view into rows of R + pad floats whose pad is NaN,
    so that a read past R or a wrong freqs row stride shows in the result."""
    import torch

    table = epilogue_torch.random_freqs(NUM_POSITIONS, m["rope_dim"], gen, device)
    if not padded:
        return table
    multiple = m["freqs_row_stride_multiple"]
    width = m["rope_dim"] + -(-STRIDE_PAD // multiple) * multiple
    store = torch.full((NUM_POSITIONS, width), float("nan"), dtype=torch.float32, device=device)
    store[:, :m["rope_dim"]] = table
    return store[:, :m["rope_dim"]]


def padded_stride(m):
    multiple = m["kv_row_stride_multiple"]
    return m["head_dim"] + -(-STRIDE_PAD // multiple) * multiple


def untouched_mismatches(case):
    """Elements outside the valid items' rows that differ bit for bit from before the launch."""
    import torch

    kv_name = case.m["kv_dtype"]
    bits = epilogue_torch.bits_dtype(kv_name)
    changed = case.store.view(bits) != case.before.view(bits)
    allowed = torch.zeros_like(changed)
    if case.items:
        allowed[[row for row, _ in case.items], :case.m["head_dim"]] = True
    return int((changed & ~allowed).sum())


def check_case(case, runtime, kernel, freqs_complex):
    """Launch twice on the same inputs; returns (ok, detail line)."""
    import torch

    m = case.m
    case.launch(runtime, kernel, freqs_complex=freqs_complex)
    torch.cuda.synchronize()
    first = case.store.clone()
    case.restore()
    case.launch(runtime, kernel, freqs_complex=freqs_complex)
    torch.cuda.synchronize()
    # A result that moves between identical launches is a race, whatever its error.
    rerun_same = epilogue_torch.same_bits(first, case.store, m["kv_dtype"])
    ok, detail = judge(case)
    return ok and rerun_same, f"{detail} rerun={'same' if rerun_same else 'DIFFERS'}"


def judge(case):
    """case.store after one launch against the float64 reference: finite, within the kv dtype's
    bound, and nothing written outside the valid items' rows. Returns (ok, detail line)."""
    import torch

    m = case.m
    stray = untouched_mismatches(case)
    skipped = case.num_items - len(case.items)
    detail = f"valid={len(case.items)} skipped={skipped} stray={stray}"
    if not case.items:
        return stray == 0, detail

    rows = torch.tensor([row for row, _ in case.items], device=case.store.device)
    positions = torch.tensor([pos for _, pos in case.items], device=case.store.device)
    d = m["head_dim"]
    out = case.store[rows, :d]
    finite = bool(torch.isfinite(out).all())
    ref = epilogue_torch.epilogue(case.before[rows, :d], case.weight, m["eps"], case.freqs, positions,
                             m["rope_dim"], m["rotate"], m["scale"])
    err = epilogue_torch.rel_l2(out, ref)
    bound = epilogue_torch.BOUNDS[m["kv_dtype"]]
    floor = "-" if m["kv_dtype"] == "f32" else f"{epilogue_torch.rounding_floor(ref, m['kv_dtype']):.2e}"
    ok = finite and stray == 0 and err <= bound
    detail += f" finite={'yes' if finite else 'NO'} err={err:.2e} bound={bound:.0e} floor={floor}"
    return ok, detail


def check_refusals(m, runtime, kernel, gen, device):
    """Self-consistent calls that differ from the manifest (kv rows of 2*D, so head_dim 2*D; kv of
    another dtype) must raise Dsv4Error and write nothing. Returns a list of (ok, label, detail)."""
    import torch

    d, kv_name = m["head_dim"], m["kv_dtype"]
    other = "bf16" if kv_name == "f32" else "f32"
    case = Case(m, 7, d, gen, device)
    wide = torch.randn(case.store.shape[0], 2 * d, generator=gen).to(epilogue_torch.torch_dtype(kv_name)).to(device)
    retyped = case.kv().to(epilogue_torch.torch_dtype(other))
    results = []
    for label, kv, kv_type in ((f"refuse head_dim {2 * d}", wide, kv_name),
                               (f"refuse kv {other}", retyped, other)):
        kv_before = kv.clone()
        try:
            case.launch(runtime, kernel, kv=kv)
            torch.cuda.synchronize()
            outcome = "no error raised"
        except runtime.Dsv4Error as e:
            outcome = f"Dsv4Error: {str(e).splitlines()[0][:80]}"
        except Exception as e:  # noqa: BLE001 - any other exception is a failure, reported as such
            outcome = f"{type(e).__name__} (not Dsv4Error): {e}"
        torch.cuda.synchronize()
        untouched = untouched_mismatches(case) == 0 and epilogue_torch.same_bits(kv, kv_before, kv_type)
        ok = outcome.startswith("Dsv4Error") and untouched
        results.append((ok, label, f"{outcome}; buffers {'untouched' if untouched else 'WRITTEN'}"))
    return results


def cases_for(m, quick):
    """(num_items, kv row stride, pass freqs as complex64) for one manifest."""
    d = m["head_dim"]
    strides = (padded_stride(m),) if quick else (d, padded_stride(m))
    plan = [(0, padded_stride(m), False)]  # an empty handle launches nothing and writes nothing
    for i, n in enumerate(QUICK_SIZES if quick else SIZES):
        for stride in strides:
            plan.append((n, stride, i % 2 == 1))
    return plan


def run_manifest(m, binary, manifest_path, runtime, gen, device, quick, report):
    from dsv4.library import Config

    try:  # each call states the manifest's configuration, which the shim holds to the object
        kernel = runtime.Kernel(binary, config=Config.from_manifest(m))
    except Exception as e:  # noqa: BLE001 - a kernel that does not load fails its whole configuration
        report(False, m["kernel"], f"load failed: {type(e).__name__}: {e}")
        return
    for num_items, stride, freqs_complex in cases_for(m, quick):
        padded = " (freqs, plan rows padded too)" if stride > m["head_dim"] else ""
        label = f"{m['kernel']} items={num_items} kv_stride={stride}{padded}{' freqs=c64' if freqs_complex else ''}"
        try:
            ok, detail = check_case(Case(m, num_items, stride, gen, device), runtime, kernel, freqs_complex)
        except Exception as e:  # noqa: BLE001 - report and go on with the other cases
            ok, detail = False, f"{type(e).__name__}: {e}"
        report(ok, label, detail)
    try:
        refusals = check_refusals(m, runtime, kernel, gen, device)
    except Exception as e:  # noqa: BLE001 - report and go on with the other manifests
        refusals = [(False, "refusals", f"{type(e).__name__}: {e}")]
    for ok, label, detail in refusals:
        report(ok, f"{m['kernel']} {label}", detail)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--objects", default="out", help="directory of *.ptx + *.json manifests (default: out)")
    p.add_argument("--quick", action="store_true", help="sizes 1, 7, 64 and one stride (for compute-sanitizer)")
    p.add_argument("--seed", type=int, help="reproduce an earlier run (default: from the clock)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    import torch
    import dsv4.runtime as runtime

    seed = args.seed if args.seed is not None else time.time_ns() % 2**31
    print(f"check_numerics: seed={seed} device={torch.cuda.get_device_name()} objects={args.objects}"
          f"{' quick' if args.quick else ''}", flush=True)
    gen = torch.Generator().manual_seed(seed)
    counts = {"passed": 0, "failed": 0, "skipped": 0}

    def report(ok, label, detail):
        counts["passed" if ok else "failed"] += 1
        print(f"{'PASS' if ok else 'FAIL'}  {label}  {detail}", flush=True)

    found = objects.manifests(args.objects, objects.PTX_TARGET)
    if not found:
        report(False, "discovery", f"no {objects.PTX_TARGET} manifest in {args.objects}")
    for m, binary, manifest_path in found:
        print(f"--- {objects.describe(objects.config_key(m))}  ratio={m['ratio']}  {os.path.basename(binary)}", flush=True)
        run_manifest(m, binary, manifest_path, runtime, gen, DEVICE, args.quick, report)
    present = {objects.config_key(m) for m, _, _ in found}
    for key in EXPECTED:
        if key not in present:
            counts["skipped"] += 1
            print(f"SKIP  {objects.describe(key)}: no PTX manifest", flush=True)
    print(f"{counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped", flush=True)
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
