# Shared by scripts/run and scripts/test: install what is missing (Debian 12, as root), then
# configure and build into build/. Quiet when everything is already there.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="$ROOT/build"
# python3-pip/-setuptools/-wheel: `pip install --no-build-isolation ./python` and its test;
# nlohmann-json3-dev: the runtime shim's JSON reader; python3-matplotlib: bench/plot_matrix.py.
PACKAGES=(llvm-22-dev libmlir-22-dev mlir-22-tools llvm-22-tools lld-22 cmake ninja-build g++ python3
          python3-pip python3-setuptools python3-wheel nlohmann-json3-dev python3-matplotlib)

install_missing() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
}

# DSV4_BUILD_PROGRESS=1 (scripts/run) shows ninja's [done/total] lines when there is something
# to build; the test run, and a build with nothing to do, stay quiet.
build() {
  if [ ! -f "$BUILD/build.ninja" ]; then
    [ "${DSV4_BUILD_PROGRESS:-0}" = 1 ] && echo "== configuring dsv4 into $BUILD"
    cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_C_COMPILER=gcc -DCMAKE_CXX_COMPILER=g++ >/dev/null
  fi
  local plan
  plan="$(cmake --build "$BUILD" -- -n 2>/dev/null || true)"  # a dry run: is there work?
  [[ "$plan" == *"ninja: no work to do."* ]] && return 0
  if [ "${DSV4_BUILD_PROGRESS:-0}" = 1 ]; then
    echo "== building dsv4 (a first build takes minutes; later ones only rebuild what changed)"
    cmake --build "$BUILD"
  else
    cmake --build "$BUILD" -- --quiet
  fi
}

install_missing
build
