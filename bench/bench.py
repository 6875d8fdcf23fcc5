"""The dsv4 bench on an NVIDIA GPU (one run, everything timed there).

Implementations, each checked once per size against the float64 reference before it is timed:
  dsv4        the PTX kernel(s) through the runtime shim (decode, rotate, D=512, R=64)
  ref-nw4/8   Triton version of the serving framework's reference algorithm (triton_reference.py)
  unf-regs    unfused: Triton norm+RoPE kernel, then a Triton Hadamard kernel in registers
  unf-reload  unfused: the same, with the Hadamard stages stored and reloaded through kv
  copy        device-to-device copy of the same bytes (the bandwidth ceiling)
Timed per call with CUDA events and as replays of a captured CUDA graph, over rotating input sets
larger than twice the L2. First-call times come from fresh processes (first_call.py).

Run (repo root): DSV4_RUNTIME_LIB=/tmp/rt/lib/libdsv4_runtime.so PYTHONPATH=python python3 bench/bench.py
"""
import argparse
import datetime
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import checkout_paths  # noqa: E402,F401 - python/ and device/ on sys.path
import first_call  # noqa: E402
import objects  # noqa: E402
from dsv4_reference import epilogue_torch  # noqa: E402
import report  # noqa: E402
import timing  # noqa: E402
import workload  # noqa: E402

SIZES = (1, 8, 64, 256, 1024, 8192, 65536)
DTYPES = ("f32", "bf16")
# Triton rounds every butterfly stage to kv's type (SPEC.md: about 5.6e-3 in bf16).
TRITON_BOUNDS = {"f32": 1e-5, "bf16": 1.5e-2, "f16": 5e-3}
FALLBACK_L2_BYTES = 50 * 2**20


def dsv4_kernels(objects_dir, runtime):
    """{kv dtype: [(name, manifest, kernel, manifest path)]} for the PTX kernels of the DeepSeek-V4
    decode shape; one that fails to load is reported and left out. Each call states the
    manifest's configuration, which the shim holds to the code object."""
    from dsv4.library import Config

    found = {}
    for m, binary, manifest_path in objects.manifests(objects_dir, objects.PTX_TARGET):
        if objects.config_key(m)[:2] != ("decode", True) or (m["head_dim"], m["rope_dim"]) != \
                (workload.HEAD_DIM, workload.ROPE_DIM):
            continue
        try:
            kernel = runtime.Kernel(binary, config=Config.from_manifest(m))
            found.setdefault(m["kv_dtype"], []).append((m, kernel, manifest_path))
        except Exception as e:  # noqa: BLE001 - the other kernels and the baselines still run
            print(f"dsv4 kernel {m['kernel']} failed to load: {type(e).__name__}: {e}", flush=True)
    return {dtype: [("dsv4" if len(ks) == 1 else f"dsv4:{m['kernel']}", m, k, p) for m, k, p in ks]
            for dtype, ks in found.items()}


def implementations(kernels, runtime):
    """{name: fn(workload, set index)}, launching on input set `index`."""
    import triton_reference

    impls = {}
    for name, _, kernel, _ in kernels:
        impls[name] = lambda w, i, k=kernel: runtime.compress_norm_rope_hadamard_inplace(
            w.kv[i], w.weight, w.freqs, w.seq_lens, w.params["eps"], kernel=k)

    def triton(fn, num_warps):
        return lambda w, i: fn(w.kv[i], w.weight, w.freqs, w.seq_lens, eps=w.params["eps"],
                               scale=w.params["scale"], ratio=w.params["ratio"],
                               rope_dim=workload.ROPE_DIM, num_warps=num_warps)

    impls["ref-nw4"] = triton(triton_reference.reference_fused, 4)
    impls["ref-nw8"] = triton(triton_reference.reference_fused, 8)
    impls["unf-regs"] = triton(triton_reference.unfused_regs, 4)
    impls["unf-reload"] = triton(triton_reference.unfused_reload, 4)
    # Reads set i and writes set i+1: the same bytes an in-place kernel reads and writes.
    impls[report.COPY] = lambda w, i: w.kv[(i + 1) % len(w.kv)].copy_(w.kv[i])
    return impls


def check(fn, w, bound):
    """Run once on fresh data in set 0 and compare: finite and within `bound` of float64 (or, for
    the copy, set 1 bit-identical to set 0)."""
    import torch

    w.refresh(0)
    before = w.kv[0].clone()
    fn(w, 0)
    torch.cuda.synchronize()
    if bound is None:
        ok = epilogue_torch.same_bits(w.kv[1], before, w.kv_dtype)
        return {"ok": ok, "err": 0.0 if ok else None, "bound": 0.0}
    out = w.kv[0]
    err = epilogue_torch.rel_l2(out, w.expected(before))
    finite = bool(torch.isfinite(out).all())
    return {"ok": finite and err <= bound, "err": err, "bound": bound, "finite": finite}


def measure(name, fn, w):
    """Check, then time one implementation on one workload; returns a result record."""
    rec = {"impl": name, "kv_dtype": w.kv_dtype, "rows": w.rows, "sets": len(w.kv), "bytes": w.bytes_moved,
           "event": None, "graph": None, "error": None}
    rec["check"] = check(fn, w, bound_for(name, w.kv_dtype))
    if not rec["check"]["ok"]:
        rec["error"] = f"wrong result: err={rec['check']['err']} bound={rec['check']['bound']}"
        return rec
    call = lambda i: fn(w, i)  # noqa: E731
    est = timing.estimate_us(call, len(w.kv))
    rec["event"] = timing.summarize(timing.event_times_us(call, len(w.kv), est))
    try:
        rec["graph"] = timing.summarize(timing.graph_times_us(call, len(w.kv), est))
    except Exception as e:  # noqa: BLE001 - an uncapturable launch still has its event timing
        rec["error"] = f"graph capture failed: {type(e).__name__}: {e}"
    return rec


def bound_for(name, kv_dtype):
    """Relative L2 bound of an implementation's check; None asks for an exact copy."""
    if name == report.COPY:
        return None
    return epilogue_torch.BOUNDS[kv_dtype] if report.is_dsv4(name) else TRITON_BOUNDS[kv_dtype]


def progress(rec):
    c = rec["check"]
    err = "-" if c.get("err") is None else f"{c['err']:.1e}"
    ev = f"{rec['event']['median_us']:.2f}" if rec["event"] else "-"
    gr = f"{rec['graph']['median_us']:.2f}" if rec["graph"] else "-"
    print(f"  {rec['kv_dtype']:<4} rows={rec['rows']:<6} {rec['impl']:<11} check err={err} "
          f"{'ok' if c['ok'] else 'WRONG'}  event {ev} us  graph {gr} us"
          f"{'  ! ' + rec['error'] if rec['error'] else ''}", flush=True)


def run_dtype(kv_dtype, kernels, runtime, sizes, l2_bytes, seed):
    import torch

    params = workload.params_from(kernels[0][1] if kernels else None)
    impls = implementations(kernels, runtime)
    broken, records = set(), []
    for rows in sizes:
        w = workload.Workload(rows, kv_dtype, params, workload.num_sets(rows, kv_dtype, l2_bytes), seed + rows)
        for name, fn in impls.items():
            if name in broken:
                continue
            try:
                rec = measure(name, fn, w)
            except Exception as e:  # noqa: BLE001 - e.g. a Triton compile error: drop it, go on
                broken.add(name)
                rec = {"impl": name, "kv_dtype": kv_dtype, "rows": rows, "bytes": w.bytes_moved, "event": None,
                       "graph": None, "check": {"ok": False}, "error": f"{type(e).__name__}: {e}"}
            progress(rec)
            records.append(rec)
        del w
        torch.cuda.empty_cache()
    return records


def environment(seed):
    import torch
    import triton

    props = torch.cuda.get_device_properties(0)
    return {"device": torch.cuda.get_device_name(), "sms": props.multi_processor_count,
            "l2_bytes": getattr(props, "L2_cache_size", FALLBACK_L2_BYTES), "torch": torch.__version__,
            "cuda": torch.version.cuda, "triton": triton.__version__,
            "date": datetime.datetime.now().isoformat(timespec="seconds"), "seed": seed}


def begin_run(title, seed=None):
    """(seed, environment) of a device run, printed as one line: `seed`, else one from the clock
    (printed, so the run can be replayed)."""
    seed = seed if seed is not None else time.time_ns() % 2**31
    env = environment(seed)
    print(f"{title}: " + ", ".join(f"{k}={v}" for k, v in env.items()), flush=True)
    return seed, env


def load_runtime():
    """The shim's wrapper, or None (then only the Triton and copy rows are timed)."""
    try:
        import dsv4.runtime as runtime
        return runtime
    except Exception as e:  # noqa: BLE001 - a missing shim must not cost the rest of the bench
        print(f"dsv4 runtime unavailable, timing baselines only: {type(e).__name__}: {e}", flush=True)
        return None


def first_calls(kernels):
    out = {"triton ref-nw4 f32": first_call.measure("triton")}
    for dtype_kernels in kernels.values():
        for name, m, _, manifest_path in dtype_kernels:
            out[f"{name} {m['kv_dtype']} ({m['kernel']})"] = first_call.measure("dsv4", manifest_path)
    return out


def format_first_calls(results):
    lines = ["first call, fresh process (ms): dsv4 = module load + first launch, JIT cache off; "
             "Triton = JIT compile + first launch, empty cache"]
    for name, r in results.items():
        if "error" in r:
            lines.append(f"  {name}: ERROR {r['error']}")
        else:
            load = f" (load {r['load_ms']:.1f} + launch {r['first_launch_ms']:.1f})" if "load_ms" in r else ""
            lines.append(f"  {name}: {r['first_call_ms']:.1f}{load}; second call {r['second_call_ms']:.2f}")
    return "\n".join(lines)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--objects", default="out", help="directory of *.ptx + *.json manifests (default: out)")
    p.add_argument("--json", help="where to write all numbers (default: $OUT/bench.json, else bench.json)")
    p.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], default=list(SIZES),
                   help="rows per call, comma-separated (default: %(default)s)")
    p.add_argument("--dtypes", type=lambda s: s.split(","), default=list(DTYPES), help="kv dtypes (default: f32,bf16)")
    p.add_argument("--seed", type=int, default=None, help="input seed (default: from the clock)")
    p.add_argument("--skip-first-call", action="store_true", help="skip the fresh-process first-call timings")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    seed = args.seed if args.seed is not None else time.time_ns() % 2**31
    env = environment(seed)
    print("bench: " + ", ".join(f"{k}={v}" for k, v in env.items()), flush=True)
    runtime = load_runtime()
    kernels = dsv4_kernels(args.objects, runtime) if runtime else {}
    for dtype in args.dtypes:
        if dtype not in kernels:
            print(f"no dsv4 decode D=512 R=64 rotate PTX kernel for {dtype} kv in {args.objects}", flush=True)

    records = []
    for dtype in args.dtypes:
        records += run_dtype(dtype, kernels.get(dtype, []), runtime, args.sizes, env["l2_bytes"], seed)
    first = {} if args.skip_first_call else first_calls(kernels)
    goals = [t for dtype in args.dtypes for t in report.targets(records, dtype)]

    path = args.json or os.path.join(os.environ.get("OUT", "."), "bench.json")
    with open(path, "w") as f:
        json.dump({"environment": env, "results": records, "first_call": first, "targets": goals}, f, indent=1)

    print()
    for dtype in args.dtypes:
        for mode in ("event", "graph"):
            print(report.table(records, dtype, mode) + "\n")
    if first:
        print(format_first_calls(first) + "\n")
    print("targets (CUDA graph):\n" + (report.format_targets(goals) or "  no dsv4 kernel measured"))
    print(f"full numbers: {path}")
    failed = [r for r in records if r["error"] and report.is_dsv4(r["impl"])]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
