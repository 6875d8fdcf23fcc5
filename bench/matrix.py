"""The production matrix on an NVIDIA GPU: DeepSeek-V4's two compressor configurations, as the model
runs them (SPEC.md, "Where DeepSeek-V4 runs it"), in one run.

  configurations  indexer (D=128, R=64, rotate, ratio 4), main (D=512, R=64, no rotate, ratio 128)
  kv              f32, bf16 (f32 weight, eps 1e-6)
  rows            decode 1 .. 65536 (seq_lens); prefill plans at 1024 and 65536
  cache           hot: two buffer sets (a copy reads one and writes the other); cold: buffer sets
                  rotated over more than twice the L2
  columns         dsv4 (the PTX kernel of examples/production.txt, through the shim), ref (the
                  reference algorithm in Triton at the same configuration, 4 warps), copy (a
                  device copy of the same bytes), floor (decode only: seq_len -> position -> freqs
                  row, then a copy of the row; no arithmetic)
Every implementation is checked once per size against float64 (the copy and floor bit for bit)
before it is timed by CUDA-graph replay (median of trials). Writes {environment, results} as JSON;
plot_matrix.py draws it.

Run (repo root): DSV4_RUNTIME_LIB=/tmp/rt/lib/libdsv4_runtime.so PYTHONPATH=python \
  python3 bench/matrix.py --objects out --json matrix.json
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import checkout_paths  # noqa: E402,F401 - python/ and device/ on sys.path
import bench  # noqa: E402
import objects  # noqa: E402
from dsv4_reference import epilogue_torch  # noqa: E402
import timing  # noqa: E402
import workload  # noqa: E402

CONFIGS = {
    "indexer": {"head_dim": 128, "rope_dim": 64, "rotate": True, "ratio": 4},
    "main": {"head_dim": 512, "rope_dim": 64, "rotate": False, "ratio": 128},
}
DTYPES = ("f32", "bf16")
DECODE_ROWS = (1, 8, 64, 256, 1024, 8192, 65536)
PREFILL_ROWS = (1024, 65536)
CACHES = ("hot", "cold")
REFERENCE_WARPS = 4
IMPLS = ("dsv4", "ref", "copy", "floor")


def find_kernel(objects_dir, runtime, config, kv_dtype, mode):
    """(manifest, loaded kernel) of the PTX kernel for one configuration, or None."""
    from dsv4.library import Config

    for m, binary, manifest_path in objects.manifests(objects_dir, objects.PTX_TARGET):
        if (m["mode"], bool(m["rotate"]), m["kv_dtype"], m["head_dim"], m["rope_dim"], m["ratio"],
                m["weight_dtype"]) == (mode, config["rotate"], kv_dtype, config["head_dim"],
                                       config["rope_dim"], config["ratio"], "f32"):
            return m, runtime.Kernel(binary, config=Config.from_manifest(m))
    return None


def implementations(kernel, config, mode):
    """{name: fn(workload, set index)}; every function launches on set i. The copy and the floor
    read set i and write set i - 1, the same bytes an in-place kernel reads and writes: the set
    the next call reads was last written a whole rotation ago, so cold stays cold (writing set
    i + 1 would hand the next call its input hot from the L2)."""
    import triton_reference

    impls = {}
    if kernel is not None:
        import dsv4.runtime as runtime

        impls["dsv4"] = lambda w, i: runtime.compress_norm_rope_hadamard_inplace(
            w.kv[i], w.weight, w.freqs, w.seq_lens if mode == "decode" else w.plan,
            w.params["eps"], kernel=kernel)
    impls["ref"] = lambda w, i: triton_reference.reference_fused(
        w.kv[i], w.weight, w.freqs, w.seq_lens, eps=w.params["eps"], scale=w.params["scale"],
        ratio=w.params["ratio"], rope_dim=w.rope_dim, num_warps=REFERENCE_WARPS, rotate=w.rotate)
    impls["copy"] = lambda w, i: w.kv[(i - 1) % len(w.kv)].copy_(w.kv[i])
    if mode == "decode":
        # One warp per 128 values: the fewest threads that still move 16 bytes each.
        warps = max(1, config["head_dim"] // 128)
        impls["floor"] = lambda w, i: triton_reference.decode_floor(
            w.kv[i], w.kv[(i - 1) % len(w.kv)], w.freqs, w.seq_lens, ratio=w.params["ratio"],
            rope_dim=w.rope_dim, num_warps=warps)
    return impls


def check(name, fn, w):
    """Run once on fresh data in set 0: dsv4 within its bound of float64, the Triton reference
    within the bound of its per-stage rounding, the copy and the floor an exact copy."""
    import torch

    w.refresh(0)
    before = w.kv[0].clone()
    fn(w, 0)
    torch.cuda.synchronize()
    if name in ("copy", "floor"):
        ok = epilogue_torch.same_bits(w.kv[-1], before, w.kv_dtype)
        return {"ok": ok, "err": 0.0 if ok else None}
    bound = epilogue_torch.BOUNDS[w.kv_dtype] if name == "dsv4" else bench.TRITON_BOUNDS[w.kv_dtype]
    err = epilogue_torch.rel_l2(w.kv[0], w.expected(before))
    return {"ok": bool(torch.isfinite(w.kv[0]).all()) and err <= bound, "err": err, "bound": bound}


def measure(key, name, fn, w):
    rec = dict(key, impl=name, bytes=w.bytes_moved, sets=len(w.kv), graph=None, error=None)
    rec["check"] = check(name, fn, w)
    if not rec["check"]["ok"]:
        rec["error"] = f"wrong result: {rec['check']}"
        return rec
    call = lambda i: fn(w, i)  # noqa: E731
    est = timing.estimate_us(call, len(w.kv))
    rec["graph"] = timing.summarize(timing.graph_times_us(call, len(w.kv), est))
    return rec


def run(objects_dir, runtime, seed, l2_bytes, sizes, prefill_sizes, log, save,
        configs=tuple(CONFIGS), dtypes=DTYPES):
    """Times the matrix (the `configs` and `dtypes` named); `save(records)` after each block, so
    a run cut short keeps what it has."""
    import torch

    records = []
    for config_name in configs:
        config = CONFIGS[config_name]
        for kv_dtype in dtypes:
            for mode, row_counts in (("decode", sizes), ("prefill", prefill_sizes)):
                found = find_kernel(objects_dir, runtime, config, kv_dtype, mode) if runtime else None
                if found is None:
                    log(f"no dsv4 {mode} kernel for {config_name} {kv_dtype} in {objects_dir}")
                manifest, kernel = found or (None, None)
                params = workload.params_from(manifest)
                params["ratio"] = config["ratio"]
                params["scale"] = config["head_dim"] ** -0.5 if config["rotate"] else 1.0
                impls = implementations(kernel, config, mode)
                for rows in row_counts:
                    for cache in CACHES:
                        sets = 2 if cache == "hot" else workload.num_sets(rows, kv_dtype, l2_bytes,
                                                                          config["head_dim"])
                        w = workload.Workload(rows, kv_dtype, params, sets, seed + rows,
                                              config["head_dim"], config["rope_dim"], config["rotate"])
                        key = {"config": config_name, "kv_dtype": kv_dtype, "mode": mode, "rows": rows,
                               "cache": cache}
                        for name, fn in impls.items():
                            try:
                                rec = measure(key, name, fn, w)
                            except Exception as e:  # noqa: BLE001 - one broken column, the rest go on
                                rec = dict(key, impl=name, graph=None, check={"ok": False},
                                           error=f"{type(e).__name__}: {e}")
                            records.append(rec)
                            med = f"{rec['graph']['median_us']:.2f}" if rec["graph"] else "-"
                            log(f"{config_name:<7} {kv_dtype:<4} {mode:<7} {cache:<4} rows={rows:<6} "
                                f"{name:<5} {med:>8} us{'  ! ' + rec['error'] if rec['error'] else ''}")
                        del w
                        torch.cuda.empty_cache()
                save(records)
    return records


def subset_of(choices):
    """An argparse type: a comma-separated list of some of `choices`."""
    def parse(text):
        picked = [x for x in text.split(",") if x]
        unknown = [x for x in picked if x not in choices]
        if unknown or not picked:
            raise argparse.ArgumentTypeError(
                f"{', '.join(unknown) or 'nothing'} named; choose among {', '.join(choices)}")
        return picked
    return parse


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--objects", default="out", help="directory of *.ptx + *.json manifests (default: out)")
    p.add_argument("--json", default="matrix.json", help="where to write the results")
    ints = lambda s: [int(x) for x in s.split(",") if x]  # noqa: E731
    p.add_argument("--sizes", type=ints, default=list(DECODE_ROWS), help="decode rows per call")
    p.add_argument("--prefill-sizes", type=ints, default=list(PREFILL_ROWS),
                   help="prefill rows per call ('' for none)")
    p.add_argument("--configs", type=subset_of(tuple(CONFIGS)), default=list(CONFIGS),
                   help="configurations to time, comma-separated (default: all)")
    p.add_argument("--dtypes", type=subset_of(DTYPES), default=list(DTYPES),
                   help="kv dtypes to time, comma-separated (default: all)")
    p.add_argument("--seed", type=int, default=None, help="input seed (default: from the clock)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    seed, env = bench.begin_run("matrix", args.seed)
    runtime = bench.load_runtime()
    def save(records):
        with open(args.json, "w") as f:
            json.dump({"environment": env, "results": records}, f, indent=1)

    records = run(args.objects, runtime, seed, env["l2_bytes"], args.sizes, args.prefill_sizes,
                  lambda line: print(line, flush=True), save, args.configs, args.dtypes)
    print(f"full numbers: {args.json}")
    return 1 if any(r["error"] for r in records) else 0


if __name__ == "__main__":
    sys.exit(main())
