#!/usr/bin/env python3
"""Mutation fuzzer for dsv4-opt: bad input must give a diagnostic, never a crash.

Mutates the repo's own .mlir files (each `// -----` chunk is a seed), runs dsv4-opt with a
pass or pipeline picked per input, and fails on a signal, an `LLVM ERROR`, a stack dump, a
sanitizer report, a hang, or a compile that exits 0 with a missing or empty output file.

  fuzz_dsv4_opt.py --dsv4-opt BIN --root REPO --runs N [--seed S] [--random-seed]

Runs N inputs from seed S (default 1); with --random-seed another N from a fresh seed,
printed so a failure can be replayed with --seed.
"""
import argparse
import os
import random
import re
import subprocess
import sys
import tempfile

# Text in a diagnostic that only a crash or a broken invariant produces.
CRASH_MARKERS = ("LLVM ERROR", "Stack dump", "PLEASE submit a bug report", "Assertion",
                 "AddressSanitizer", "UndefinedBehaviorSanitizer", "runtime error:",
                 "UNREACHABLE")
# Values that sit on the edges the verifiers and lowerings must handle.
EDGE_NUMBERS = ["0", "-1", "1", "2", "3", "4", "63", "64", "65", "128", "4096", "8192",
                "2147483647", "2147483648", "-2147483648", "4294967296",
                "9223372036854775807", "-9223372036854775808", "0x7FC00000", "0x7F800000",
                "0xFF800000", "1.0e-50", "1.0e+50", "?"]
EDGE_WORDS = ["f32", "bf16", "f16", "i32", "i64", "f64", "index", "decode", "prefill",
              "tensor<?x512xf32>", "tensor<?xi32>", "tensor<?x4xi32>", "@a-b", "@\"../x\"",
              "@\"\"", "builtin.module {", "}", "gpu.module @g {", "func.func @k() {"]
PIPELINES = [
    ["--verify-diagnostics"],
    ["--dsv4-fuse"],
    ["--canonicalize"],
    ["--convert-dsv4-to-gpu"],
    ["--dsv4-fuse", "--convert-dsv4-to-gpu=rows-per-workgroup=3"],
    ["--convert-dsv4-to-loops"],
    ["--dsv4-cpu-reference"],
    ["--dsv4-compile=chip=sm_90 output-dir={out}"],
    ["--dsv4-compile=chip=gfx942 output-dir={out} format=isa"],
]
TOKEN = re.compile(r"-?0x[0-9A-Fa-f]+|-?\d+(?:\.\d+)?(?:e[+-]?\d+)?|[A-Za-z_][\w.]*|\S")


def seeds(root):
    """Every `// -----` chunk of every .mlir file in the repo (build trees excluded)."""
    chunks = []
    for folder in ("examples", "test"):
        for dirpath, _, files in os.walk(os.path.join(root, folder)):
            for name in sorted(files):
                if name.endswith(".mlir"):
                    with open(os.path.join(dirpath, name), encoding="utf-8") as f:
                        chunks += [c for c in f.read().split("// -----") if "dsv4." in c]
    return chunks


def mutate(rng, text):
    lines = text.split("\n")
    for _ in range(rng.randint(1, 3)):
        kind = rng.randrange(6)
        i = rng.randrange(len(lines))
        if kind == 0:  # a number or word replaced by an edge value
            tokens = TOKEN.findall(lines[i])
            if tokens:
                old = rng.choice(tokens)
                new = rng.choice(EDGE_NUMBERS if old[-1].isdigit() else EDGE_WORDS)
                lines[i] = lines[i].replace(old, new, 1)
        elif kind == 1:
            del lines[i]
        elif kind == 2:
            lines.insert(rng.randrange(len(lines) + 1), lines[i])
        elif kind == 3:
            j = rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        elif kind == 4 and lines[i]:  # one character changed
            k = rng.randrange(len(lines[i]))
            lines[i] = lines[i][:k] + chr(rng.randrange(32, 127)) + lines[i][k + 1:]
        else:  # a word from elsewhere in the file
            words = TOKEN.findall(text)
            lines.insert(i, rng.choice(words) if words else "")
        if not lines:
            lines = [""]
    return "\n".join(lines)


def run_one(args, rng, chunks, index, work):
    text = mutate(rng, rng.choice(chunks))
    out = os.path.join(work, "out%d" % index)
    flags = [f.format(out=out) for f in rng.choice(PIPELINES)]
    source = os.path.join(work, "input.mlir")
    with open(source, "w", encoding="utf-8") as f:
        f.write(text)
    command = [args.dsv4_opt, source, "-o", os.devnull] + flags
    try:
        done = subprocess.run(command, capture_output=True, text=True, errors="replace",
                              timeout=args.timeout)
    except subprocess.TimeoutExpired:
        return "hang (over %d s)" % args.timeout, text, flags
    if done.returncode < 0:
        return "signal %d" % -done.returncode, text, flags
    for marker in CRASH_MARKERS:
        if marker in done.stderr:
            return "'%s' in the output" % marker, text, flags
    if done.returncode == 0 and any(f.startswith("--dsv4-compile") for f in flags):
        # A compile that succeeds has written every file it says it wrote, none empty.
        for path in re.findall(r"remark: wrote (\S+)", done.stderr):
            if not os.path.isfile(path) or os.path.getsize(path) == 0:
                return "exit 0 but '%s' is missing or empty" % path, text, flags
    return None, text, flags


def campaign(args, seed, chunks, work):
    rng = random.Random(seed)
    for index in range(args.runs):
        problem, text, flags = run_one(args, rng, chunks, index, work)
        if problem:
            print("FAIL (seed %d, run %d): %s\n  flags: %s\n--- input ---\n%s" %
                  (seed, index, problem, " ".join(flags), text))
            return False
    print("seed %d: %d inputs, no crash" % (seed, args.runs))
    return True


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsv4-opt", required=True)
    parser.add_argument("--root", required=True, help="the repository, for its .mlir files")
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--random-seed", action="store_true")
    parser.add_argument("--timeout", type=int, default=60)
    args = parser.parse_args()
    chunks = seeds(args.root)
    if not chunks:
        sys.exit("no .mlir seeds under %s" % args.root)
    run_seeds = [args.seed]
    if args.random_seed:
        run_seeds.append(random.SystemRandom().randrange(1 << 31))
        print("random seed %d (replay: --seed %d --runs %d)" % (run_seeds[-1], run_seeds[-1],
                                                                args.runs))
    with tempfile.TemporaryDirectory() as work:
        ok = all([campaign(args, seed, chunks, work) for seed in run_seeds])
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
