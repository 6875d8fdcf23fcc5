#!/usr/bin/env bash
# Proof of the PTX kernels on an NVIDIA GPU: build the runtime shim (unless DSV4_RUNTIME_LIB already
# exists), run check_numerics.py (the in-place kernels against float64), store_proof.py (the
# FP8 store kernels, every cache byte against SPEC.md's model) and compress_proof.py (the compress
# kernels, from the paged state to every cache byte), then each with --quick under
# compute-sanitizer's memcheck, racecheck and synccheck. Logs go to $OUT (or /tmp/dsv4_proof).
# Exit status 0 only if all passed.
#
# Knobs (environment): OBJECTS (default out; its store/ holds the store and compress kernels),
# STORE_OBJECTS (more folders of store kernels for store_proof.py and compress_proof.py, e.g. other
# page sizes), SANITIZERS (default "memcheck racecheck synccheck"),
# SAN_TIMEOUT seconds per sanitizer run (default 100).
set -u
cd "$(dirname "$0")/.."

OBJECTS=${OBJECTS:-out}
SANITIZERS=${SANITIZERS:-memcheck racecheck synccheck}
SAN_TIMEOUT=${SAN_TIMEOUT:-100}
LOGS=${OUT:-/tmp/dsv4_proof}
mkdir -p "$LOGS"
export PYTHONUNBUFFERED=1
export PYTHONPATH=python${PYTHONPATH:+:$PYTHONPATH}
export DSV4_RUNTIME_LIB=${DSV4_RUNTIME_LIB:-/tmp/rt/lib/libdsv4_runtime.so}

if [ ! -f "$DSV4_RUNTIME_LIB" ]; then
  echo "== building the runtime shim"
  if ! { cmake -S lib/Runtime -B /tmp/rt ${DSV4_JSON_INCLUDE_DIR:+-DDSV4_JSON_INCLUDE_DIR="$DSV4_JSON_INCLUDE_DIR"} &&
         cmake --build /tmp/rt -j; } >/tmp/shim_build.log 2>&1; then
    cp /tmp/shim_build.log "$LOGS/"
    tail -40 /tmp/shim_build.log
    echo "proof: shim build FAILED"
    exit 1
  fi
  DSV4_RUNTIME_LIB=/tmp/rt/lib/libdsv4_runtime.so
fi
echo "== shim: $DSV4_RUNTIME_LIB"

echo "== check_numerics (full)"
python3 device/check_numerics.py --objects "$OBJECTS" 2>&1 | tee "$LOGS/numerics.log"
numerics_rc=${PIPESTATUS[0]}
echo "== store_proof (full)"
# shellcheck disable=SC2086  # STORE_OBJECTS is a list of folders
python3 device/store_proof.py --objects "$OBJECTS" ${STORE_OBJECTS:-} 2>&1 | tee "$LOGS/store.log"
store_rc=${PIPESTATUS[0]}
echo "== compress_proof (full)"
# shellcheck disable=SC2086  # STORE_OBJECTS is a list of folders
python3 device/compress_proof.py --objects "$OBJECTS" ${STORE_OBJECTS:-} 2>&1 | tee "$LOGS/compress.log"
compress_rc=${PIPESTATUS[0]}

# One sanitizer run: only kernels whose name holds "dsv4" are instrumented (torch's own kernels
# would make it many times slower); the caching allocator is off so that every tensor is its own
# allocation and an overrun past one is an out-of-bounds access, not a hit in a pooled segment.
run_sanitizer() {
  local tool=$1 script=$2 log="$LOGS/sanitizer_$1_$2.log" filter=(--kernel-name kns=dsv4)
  echo "== compute-sanitizer --tool $tool ($script --quick)"
  for attempt in 1 2; do
    PYTORCH_NO_CUDA_MEMORY_CACHING=1 timeout "$SAN_TIMEOUT" \
      compute-sanitizer --tool "$tool" --error-exitcode 1 "${filter[@]}" \
      python3 "device/$script.py" --objects "$OBJECTS" --quick >"$log" 2>&1
    local rc=$?
    # A sanitizer too old for the kernel filter says so; then check every kernel instead.
    grep -qiE 'unrecognized option|unknown option' "$log" && [ $attempt = 1 ] || break
    echo "   (no --kernel-name filter in this compute-sanitizer; instrumenting all kernels)"
    filter=()
  done
  tail -3 "$log"
  SAN_RC[${tool}_$script]=$rc
}

declare -A SAN_RC
for tool in $SANITIZERS; do
  for script in check_numerics store_proof compress_proof; do run_sanitizer "$tool" "$script"; done
done

echo
echo "===== proof verdicts"
status=0
echo "numerics:  $(grep -E '^[0-9]+ passed, [0-9]+ failed' "$LOGS/numerics.log" | tail -1) (exit $numerics_rc)"
[ "$numerics_rc" -eq 0 ] || status=1
echo "store:     $(grep -E '^===== store proof' "$LOGS/store.log" | tail -1) (exit $store_rc)"
[ "$store_rc" -eq 0 ] || status=1
echo "compress:  $(grep -E '^===== compress proof' "$LOGS/compress.log" | tail -1) (exit $compress_rc)"
[ "$compress_rc" -eq 0 ] || status=1
for key in "${!SAN_RC[@]}"; do
  rc=${SAN_RC[$key]} log="$LOGS/sanitizer_$key.log"
  summary=$(grep -E 'ERROR SUMMARY' "$log" | tail -1)
  checks=$(grep -E '^[0-9]+ passed, [0-9]+ failed|^===== (store|compress) proof' "$log" | tail -1)
  case $rc in
    0) verdict=clean ;;
    124) verdict="TIMEOUT after ${SAN_TIMEOUT}s" ;;
    *) verdict="FAILED (exit $rc)" ;;
  esac
  echo "$key: $verdict | ${summary:-no ERROR SUMMARY line} | checks: ${checks:-none}"
  [ "$rc" -eq 0 ] || status=1
done
exit $status
