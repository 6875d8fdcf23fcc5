#!/usr/bin/env bash
# Mutation check of the GPU kernel (not part of the suite: one rebuild per mutant). Every
# `arith::AddFOp::create` / `arith::SubFOp::create` of the kernel emitter is swapped for the
# other, and every `gpu::BarrierOp::create(b);` removed, one at a time; after each, dsv4-opt is
# rebuilt and the lit tests under $FILTER (default: the tests that execute the kernel) run.
# A mutant must make at least one test fail. Prints one line per mutant and a summary; the
# source file is restored on exit.
#   scripts/mutants.sh [lit --filter regex]
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FILE="$ROOT/lib/Conversion/Dsv4ToGPU/KernelEmitter.cpp"
FILTER="${1:-Integration|GPUToHost}"
BACKUP="$(mktemp)"
cp "$FILE" "$BACKUP"
trap 'cp "$BACKUP" "$FILE"; rm -f "$BACKUP"; ninja -C "$ROOT/build" dsv4-opt >/dev/null' EXIT

# Lists the mutation sites as "offset token" lines; applies site N with `mutate N`.
sites() {
  python3 - "$BACKUP" <<'PY'
import re, sys
src = open(sys.argv[1]).read()
for m in re.finditer(r"arith::(AddF|SubF)Op::create|gpu::BarrierOp::create\(b\);", src):
    line = src.count("\n", 0, m.start()) + 1
    print(m.start(), line, m.group())
PY
}
mutate() {
  python3 - "$BACKUP" "$FILE" "$1" <<'PY'
import sys
src, out, at = open(sys.argv[1]).read(), sys.argv[2], int(sys.argv[3])
swap = {"arith::AddFOp::create": "arith::SubFOp::create",
        "arith::SubFOp::create": "arith::AddFOp::create",
        "gpu::BarrierOp::create(b);": "(void)0; // barrier removed"}
for old, new in swap.items():
    if src.startswith(old, at):
        open(out, "w").write(src[:at] + new + src[at + len(old):])
        break
else:
    sys.exit(f"no mutation site at offset {at}")
PY
}

caught=0
survived=0
while read -r offset line token; do
  mutate "$offset"
  if ! ninja -C "$ROOT/build" dsv4-opt >/dev/null 2>&1; then
    echo "KernelEmitter.cpp:$line $token: does not build (not counted)"
    continue
  fi
  failing=$(/usr/lib/llvm-22/bin/lit -sv "$ROOT/build/test" --filter "$FILTER" 2>&1 \
    | grep -cE '^(FAIL|UNRESOLVED): ')
  if [ "$failing" -gt 0 ]; then
    caught=$((caught + 1)); echo "KernelEmitter.cpp:$line $token: caught ($failing tests fail)"
  else
    survived=$((survived + 1)); echo "KernelEmitter.cpp:$line $token: SURVIVED"
  fi
done < <(sites)
echo "$caught caught, $survived survived"
[ "$survived" -eq 0 ]
