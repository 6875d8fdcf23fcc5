#!/usr/bin/env bash
# Compiles one kernel of examples/ (default: the shipped decode kernel, D=512, R=64, f32) for
# sm_90 under several kernel shapes into DIR (default tune/), each with its own kernel name,
# for bench.py to time side by side:
#   bench/compile_variants.sh tune && python3 bench/bench.py --objects tune --dtypes f32
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="$(realpath -m "${1:-$ROOT/tune}")"
NAME="${2:-dsv4_decode_r4_d512_r64_f32}"
mkdir -p "$DIR"
# lanes-per-row:rows-per-workgroup:schedule
for variant in ${VARIANTS:-32:4:grouped 16:8:grouped 16:4:grouped 8:16:grouped 32:8:grouped \
                         32:4:per-stage 16:16:per-stage}; do
  IFS=: read -r lanes rows schedule <<<"$variant"
  tag="l${lanes}w${rows}${schedule/grouped/}"
  tag="${tag/per-stage/ps}"
  # Keep only the decode function of the example, renamed after its shape. dsv4-opt runs in
  # DIR (output-dir=.): a path pasted into the option text would split at a space.
  awk -v name="$NAME" '/^func.func/{keep = index($0, "@" name "(") > 0} keep' \
      "$ROOT"/examples/*.mlir | sed "s/@$NAME(/@${NAME}_$tag(/" |
    (cd "$DIR" && "$ROOT/build/bin/dsv4-opt" "--dsv4-compile=chip=sm_90 output-dir=. lanes-per-row=$lanes rows-per-workgroup=$rows schedule=$schedule" -o /dev/null)
done
ls "$DIR"
