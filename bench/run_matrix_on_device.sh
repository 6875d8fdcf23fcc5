#!/usr/bin/env bash
# One device call for the production matrix (< 10 minutes, each step under a time limit, the
# matrix first): build the runtime shim, time the production matrix (matrix.py), prove every PTX
# kernel in $OBJECTS against float64 (device/run_device_proof.sh, sanitizers $SANITIZERS),
# profile each production decode kernel at 1 and 64 rows with ncu (stall samples by SASS line),
# then the D=512-rotate secondary table (bench.py). Logs and JSON go to $OUT.
# Usage, from the repo root: bash bench/run_matrix_on_device.sh
# DSV4_JSON_INCLUDE_DIR: a folder holding nlohmann/json.hpp where nlohmann-json3-dev is missing.
set -u
cd "$(dirname "$0")/.."
OBJECTS=${OBJECTS:-out}
LOGS=${OUT:-/tmp/dsv4_matrix}
mkdir -p "$LOGS"
export OUT=$LOGS OBJECTS PYTHONUNBUFFERED=1
export PYTHONPATH=python${PYTHONPATH:+:$PYTHONPATH}
export DSV4_RUNTIME_LIB=/tmp/rt/lib/libdsv4_runtime.so
export SANITIZERS=${SANITIZERS-synccheck} SAN_TIMEOUT=${SAN_TIMEOUT:-45}

echo "== $(date -Is) $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>&1)"
echo "== objects: $(ls "$OBJECTS"/*.ptx 2>/dev/null | wc -l) PTX in $OBJECTS"
if ! { cmake -S lib/Runtime -B /tmp/rt ${DSV4_JSON_INCLUDE_DIR:+-DDSV4_JSON_INCLUDE_DIR="$DSV4_JSON_INCLUDE_DIR"} &&
      cmake --build /tmp/rt -j; } >/tmp/shim_build.log 2>&1; then
  tail -40 /tmp/shim_build.log
  echo "shim build FAILED"
  exit 1
fi

echo "== matrix"
timeout 270 python3 bench/matrix.py --objects "$OBJECTS" --json "$LOGS/matrix.json" >"$LOGS/matrix.log" 2>&1
matrix_rc=$?
grep -E "!|no dsv4" "$LOGS/matrix.log" | head -20

echo "== proof"
timeout 120 bash device/run_device_proof.sh >/tmp/proof.log 2>&1
proof_rc=$?
sed -n '/===== proof verdicts/,$p' /tmp/proof.log
grep -E "^FAIL" /tmp/proof.log | head -20

echo "== ncu"
ncu_start=$SECONDS
for kernel in dsv4_decode_r4_d128_r64_f32 dsv4_decode_r4_d128_r64_bf16 \
              dsv4_decode_r128_norot_d512_r64_f32 dsv4_decode_r128_norot_d512_r64_bf16; do
  for rows in 1 64; do
    [ $((SECONDS - ncu_start)) -lt 80 ] || break 2
    echo "--- $kernel rows=$rows"
    ncu --kernel-name "regex:dsv4" --launch-skip 2 --launch-count 1 --set full --import-source no \
      -f -o /tmp/prof python3 bench/profile_one.py "$OBJECTS/$kernel.sm_90.ptx" "$rows" >/dev/null 2>&1 &&
      ncu -i /tmp/prof.ncu-rep --page source --csv --print-source sass >/tmp/sass.csv 2>/dev/null &&
      python3 bench/ncu_stalls.py /tmp/sass.csv --top 8
    ncu -i /tmp/prof.ncu-rep --page details --section SpeedOfLight --section WarpStateStats 2>/dev/null |
      grep -E "Duration|Elapsed Cycles|Warp Cycles Per Issued|Stall" | head -8
  done
done 2>&1 | tee "$LOGS/ncu.log"

echo "== D=512 rotate (secondary)"
timeout 110 python3 bench/bench.py --objects "$OBJECTS" --json "$LOGS/bench.json" --skip-first-call \
  >"$LOGS/bench.log" 2>&1
bench_rc=$?
grep -E "graph" "$LOGS/bench.log" | grep dsv4 | head -20

echo "== done: proof exit $proof_rc, matrix exit $matrix_rc, bench exit $bench_rc"
