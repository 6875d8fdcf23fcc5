"""First-call time, each in a fresh process: dsv4 = module load from file + first launch (the
driver's JIT cache disabled, so the PTX is compiled as on a first deployment); Triton = first call
including its JIT compile (into an empty TRITON_CACHE_DIR). CUDA context creation and imports are
done before the clock starts in both.

Parent side: `measure(kind, manifest_path=None)`; child side: `python3 bench/first_call.py KIND [MANIFEST]`
prints one JSON line.
"""
import json
import os
import subprocess
import sys
import tempfile
import time

ROWS = 64
TIMEOUT_S = 180


def measure(kind, manifest_path=None):
    """Run the child for `kind` ("dsv4" or "triton"); returns its JSON dict, or {"error": ...}."""
    with tempfile.TemporaryDirectory(prefix="dsv4_first_call_") as cache:
        env = dict(os.environ, TRITON_CACHE_DIR=cache, CUDA_CACHE_DISABLE="1")
        cmd = [sys.executable, os.path.abspath(__file__), kind] + ([manifest_path] if manifest_path else [])
        try:
            done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            return {"error": f"timed out after {TIMEOUT_S}s"}
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        return {"error": f"exit {done.returncode}: {(done.stderr or done.stdout).strip()[-400:]}"}
    return json.loads(lines[-1])


def _timed_calls(call, setup_ms=None):
    """Milliseconds of the first call (and of a second one, for contrast), synchronized."""
    import torch

    t0 = time.perf_counter()
    call()
    torch.cuda.synchronize()
    t1 = time.perf_counter()
    call()
    torch.cuda.synchronize()
    t2 = time.perf_counter()
    out = {"first_call_ms": (t1 - t0) * 1e3, "second_call_ms": (t2 - t1) * 1e3}
    if setup_ms is not None:
        out["load_ms"] = setup_ms
        out["first_launch_ms"] = out["first_call_ms"]
        out["first_call_ms"] = setup_ms + out["first_launch_ms"]
    return out


def _child(kind, manifest_path):
    import torch

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import workload

    manifest = None
    if manifest_path:
        with open(manifest_path) as f:
            manifest = json.load(f)
    kv_dtype = manifest["kv_dtype"] if manifest else "f32"
    params = workload.params_from(manifest)
    w = workload.Workload(ROWS, kv_dtype, params, 1, seed=1)
    torch.cuda.synchronize()  # context, allocations and inputs are ready before the clock starts

    if kind == "dsv4":
        import dsv4.runtime as runtime
        from dsv4.library import Config

        t0 = time.perf_counter()
        kernel = runtime.Kernel(os.path.join(os.path.dirname(manifest_path), manifest["binary"]),
                                config=Config.from_manifest(manifest))
        load_ms = (time.perf_counter() - t0) * 1e3
        result = _timed_calls(lambda: runtime.compress_norm_rope_hadamard_inplace(
            w.kv[0], w.weight, w.freqs, w.seq_lens, params["eps"], kernel=kernel), load_ms)
    else:
        import triton_reference

        result = _timed_calls(lambda: triton_reference.reference_fused(
            w.kv[0], w.weight, w.freqs, w.seq_lens, eps=params["eps"], scale=params["scale"],
            ratio=params["ratio"], rope_dim=workload.ROPE_DIM, num_warps=4))
    result["rows"] = ROWS
    print(json.dumps(result))


if __name__ == "__main__":
    _child(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)
