#!/usr/bin/env bash
# Proof of the torch ops on an NVIDIA GPU (torch, triton, CMake and g++ there; no LLVM, no pip
# network): build the runtime shim (unless DSV4_RUNTIME_LIB exists), pip-install the package into
# a temporary target with that shim, and run torch_op_proof.py against the kernel library that
# scripts/run wrote (KERNELS, default out/, and its store/ folder), then sglang_proof.py (the
# sglang adapter on sglang's plan structs), vllm_adapter_proof.py (vLLM's compressor call
# through dsv4.frameworks.vllm) and examples/decode_loop.py (and its --corrupt self-test) on
# the same package. Log to $OUT (or /tmp/dsv4_proof); exit
# status 0 only if all passed.
# DSV4_JSON_INCLUDE_DIR: a folder holding nlohmann/json.hpp where nlohmann-json3-dev is missing.
set -u
cd "$(dirname "$0")/.."

KERNELS=$(realpath -m "${KERNELS:-out}")
LOGS=${OUT:-/tmp/dsv4_proof}
mkdir -p "$LOGS"
export PYTHONUNBUFFERED=1
export DSV4_RUNTIME_LIB=${DSV4_RUNTIME_LIB:-/tmp/rt/lib/libdsv4_runtime.so}

if [ ! -f "$DSV4_RUNTIME_LIB" ]; then
  echo "== building the runtime shim"
  if ! { cmake -S lib/Runtime -B /tmp/rt -DDSV4_RUNTIME_BUILD_TESTS=OFF \
           ${DSV4_JSON_INCLUDE_DIR:+-DDSV4_JSON_INCLUDE_DIR="$DSV4_JSON_INCLUDE_DIR"} &&
         cmake --build /tmp/rt -j; } \
      >"$LOGS/shim_build.log" 2>&1; then
    tail -40 "$LOGS/shim_build.log"
    echo "torch op proof: shim build FAILED"
    exit 1
  fi
fi
if [ ! -f "$KERNELS/index.json" ]; then
  echo "torch op proof: no $KERNELS/index.json (run scripts/run on the build machine, carry out/)"
  exit 1
fi
# Index the library as this checkout does (a library carried from an older checkout may have an
# index of an older format, or none of its store/ folder); indexing reads only the manifests.
for folder in "$KERNELS" "$KERNELS/store"; do
  if [ -d "$folder" ] && ! PYTHONPATH="$PWD/python" python3 -m dsv4 --index "$folder"; then
    echo "torch op proof: cannot index $folder"
    exit 1
  fi
done

# The installed package, with its own copy of the shim and of the library (dsv4/kernels, found
# with no $DSV4_KERNEL_DIR), is the path a user takes; where this Python lacks setuptools/wheel,
# the proof runs from the source tree with DSV4_KERNEL_DIR instead (and says so).
echo "== pip install --no-build-isolation ./python (into /tmp/dsv4_site, with $KERNELS)"
rm -rf /tmp/dsv4_site
if DSV4_KERNEL_LIBRARY="$KERNELS" python3 -m pip install --no-build-isolation --no-index \
    --no-deps --quiet --target /tmp/dsv4_site ./python >"$LOGS/pip.log" 2>&1; then
  # python/ after the site, for dsv4_reference (the float64 models, not in the wheel) only: the
  # installed dsv4 comes first.
  package=(env -u DSV4_RUNTIME_LIB -u DSV4_KERNEL_DIR PYTHONPATH="/tmp/dsv4_site:$PWD/python")
else
  tail -5 "$LOGS/pip.log"
  echo "   pip install failed: running from the source tree (PYTHONPATH=python) instead"
  package=(env PYTHONPATH="$PWD/python" DSV4_KERNEL_DIR="$KERNELS")
fi

echo "== torch_op_proof (kernels from $KERNELS)"
"${package[@]}" DSV4_CACHE_DIR=/tmp/dsv4_cache \
  python3 device/torch_op_proof.py "$@" 2>&1 | tee "$LOGS/torch_op_proof.log"
proof_rc=${PIPESTATUS[0]}

# sglang's call sites through dsv4.frameworks.sglang, on sglang's own plan structs.
echo "== sglang_proof (kernels from $KERNELS)"
"${package[@]}" DSV4_CACHE_DIR=/tmp/dsv4_cache \
  python3 device/sglang_proof.py "$@" 2>&1 | tee "$LOGS/sglang_proof.log"
sglang_rc=${PIPESTATUS[0]}

# vLLM's compressor store call, with vLLM's tensors, through dsv4.frameworks.vllm: every cache
# byte against dsv4's direct call and the float64 reference.
echo "== vllm_adapter_proof (kernels from $KERNELS)"
"${package[@]}" DSV4_CACHE_DIR=/tmp/dsv4_cache \
  python3 device/vllm_adapter_proof.py --objects "$KERNELS" 2>&1 | tee "$LOGS/vllm_adapter_proof.log"
vllm_rc=${PIPESTATUS[0]}

# The ops as a server calls them: examples/decode_loop.py's prefill chunks and CUDA-graph decode
# steps, every cache byte of the run; then a short run with one cache byte flipped, which must
# fail with exactly that byte and that check reported (the comparison can fail).
echo "== examples/decode_loop.py (kernels from $KERNELS)"
"${package[@]}" DSV4_CACHE_DIR=/tmp/dsv4_cache \
  python3 examples/decode_loop.py --objects "$KERNELS" 2>&1 | tee "$LOGS/decode_loop.log"
loop_rc=${PIPESTATUS[0]}
echo "== examples/decode_loop.py --corrupt (must fail: 1 byte differs, 1 check fails)"
"${package[@]}" DSV4_CACHE_DIR=/tmp/dsv4_cache \
  python3 examples/decode_loop.py --objects "$KERNELS" --steps 8 --corrupt \
  >"$LOGS/decode_loop_corrupt.log" 2>&1
corrupt_rc=$?
corrupt_seen=$(grep -E '^===== decode loop: [0-9]+ bytes compared, 1 differ, 1 checks failed$' \
  "$LOGS/decode_loop_corrupt.log")

echo
echo "===== torch op proof verdicts"
proof_line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$LOGS/torch_op_proof.log" | tail -1)
loop_line=$(grep -E '^===== decode loop' "$LOGS/decode_loop.log" | tail -1)
vllm_line=$(grep -E '^===== vllm adapter proof' "$LOGS/vllm_adapter_proof.log" | tail -1)
echo "torch ops:   $proof_line (exit $proof_rc)"
echo "sglang:      $(grep -E '^[0-9]+ passed, [0-9]+ failed' "$LOGS/sglang_proof.log" | tail -1) (exit $sglang_rc)"
echo "vllm adapter: ${vllm_line#===== } (exit $vllm_rc)"
echo "decode loop: $loop_line (exit $loop_rc)"
if [ "$corrupt_rc" -eq 1 ] && [ -n "$corrupt_seen" ]; then
  echo "decode loop --corrupt: caught (${corrupt_seen#===== decode loop: })"
else
  tail -5 "$LOGS/decode_loop_corrupt.log"
  echo "decode loop --corrupt: NOT caught (exit $corrupt_rc)"
fi
[ "$proof_rc" -eq 0 ] && [ "$sglang_rc" -eq 0 ] && [ "$vllm_rc" -eq 0 ] && [ "$loop_rc" -eq 0 ] && \
  [ "$corrupt_rc" -eq 1 ] && [ -n "$corrupt_seen" ]
