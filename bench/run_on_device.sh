#!/usr/bin/env bash
# Everything for one device call (~9 minutes at most): build the runtime shim, run the proof
# (device/run_device_proof.sh: numerics + compute-sanitizer), then the bench. Logs and
# bench.json go to $OUT. Usage, from anywhere: bash bench/run_on_device.sh [bench.py options]
# Knobs (environment): OBJECTS (default out), SKIP_PROOF=1, DSV4_JSON_INCLUDE_DIR (a folder
# holding nlohmann/json.hpp where the machine has no nlohmann-json3-dev), and those of
# run_device_proof.sh.
set -u
cd "$(dirname "$0")/.."

OBJECTS=${OBJECTS:-out}
LOGS=${OUT:-/tmp/dsv4_bench}
mkdir -p "$LOGS"
export OUT=$LOGS OBJECTS PYTHONUNBUFFERED=1
export PYTHONPATH=python${PYTHONPATH:+:$PYTHONPATH}
export DSV4_RUNTIME_LIB=/tmp/rt/lib/libdsv4_runtime.so

echo "== $(date -Is) $(nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem,temperature.gpu --format=csv,noheader 2>&1)"
echo "== objects: $(ls "$OBJECTS"/*.ptx 2>/dev/null | wc -l) PTX, $(ls "$OBJECTS"/*.hsaco 2>/dev/null | wc -l) HSACO in $OBJECTS"

echo "== building the runtime shim"
if ! { cmake -S lib/Runtime -B /tmp/rt ${DSV4_JSON_INCLUDE_DIR:+-DDSV4_JSON_INCLUDE_DIR="$DSV4_JSON_INCLUDE_DIR"} &&
       cmake --build /tmp/rt -j; } >/tmp/shim_build.log 2>&1; then
  cp /tmp/shim_build.log "$LOGS/"
  tail -40 /tmp/shim_build.log
  echo "shim build FAILED: the bench goes on with the Triton and copy baselines only"
fi

proof_rc=skipped
if [ "${SKIP_PROOF:-0}" != 1 ]; then
  echo "== proof"
  bash device/run_device_proof.sh 2>&1 | tee /tmp/proof.log
  proof_rc=${PIPESTATUS[0]}
fi

echo "== bench"
set -o pipefail
python3 bench/bench.py --objects "$OBJECTS" --json "$LOGS/bench.json" "$@" 2>&1 | tee "$LOGS/bench.log"
bench_rc=$?

# The device tool returns the end of the output: repeat the proof's verdicts there.
[ -f /tmp/proof.log ] && sed -n '/===== proof verdicts/,$p' /tmp/proof.log
echo "== done: proof exit $proof_rc, bench exit $bench_rc"
[ "$proof_rc" = 0 ] || [ "$proof_rc" = skipped ] && [ "$bench_rc" = 0 ]
