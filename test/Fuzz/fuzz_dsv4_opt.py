#!/usr/bin/env python3
"""Mutation fuzzer for dsv4-opt: bad input must give a diagnostic, never a crash or bad output.

Mutates the repo's own .mlir files (each `// -----` chunk is a seed) and runs dsv4-opt with a
pass or pipeline picked per input. It fails (fuzzlib.py) on a signal, a hang or crash text; on
a compile that exits 0 having written a missing or empty file, a file outside its output folder,
a PTX that ptxas refuses or a code object the runtime shim refuses; on a CPU reference (plain,
or of the emulated GPU kernel) of an input that verifies which, run on small tensors, faults or
accesses memory out of bounds. Some compiles run under a small RLIMIT_FSIZE: a write past it
must be one error, not a crash.

  fuzz_dsv4_opt.py --dsv4-opt BIN --root REPO --runs N [--seed S] [--random-seed]
                   [--mlir-runner BIN --runner-libs A,B] [--ptxas BIN]
                   [--launch-check BIN --fake-hip SO --fake-cuda SO] [--exec-share F]

Runs N inputs from seed S (default 1); with --random-seed another N from a fresh seed,
printed so a failure can be replayed with --seed. A long run: --runs 10000.
"""
import argparse
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fuzzlib  # noqa: E402

# Values on the edges the verifiers and lowerings must handle: 2^20 is the largest page size,
# from 2^54 a page's bytes overflow i64, 2^62 made them 0 (a division by zero).
EDGE_INTEGERS = ["0", "-1", "1", "2", "3", "4", "63", "64", "65", "128", "4096", "8192",
                 "1048576", "2097152", "2147483647", "2147483648", "-2147483648", "4294967296",
                 "18014398509481984", "72057594037927936", "144115188075855872",
                 "4611686018427387904", "9223372036854775807", "-9223372036854775808"]
EDGE_NUMBERS = EDGE_INTEGERS + ["0x7FC00000", "0x7F800000", "0xFF800000", "1.0e-50", "1.0e+50",
                                "?"]
EDGE_WORDS = ["f32", "bf16", "f16", "i32", "i64", "f64", "index", "decode", "prefill",
              "tensor<?x512xf32>", "tensor<?xi32>", "tensor<?x4xi32>", "@a-b", "@\"../x\"",
              "@\"\"", "@_", "@WARP_SZ", "builtin.module {", "}", "gpu.module @g {",
              "func.func @k() {"]
# (weight, flags, passes before the execution oracle's run of the CPU reference, or None).
EMULATED_KERNEL = ["--dsv4-fuse", "--dsv4-plan-kernels", "--convert-dsv4-to-gpu",
                   "--dsv4-host-launch", "--canonicalize", "--cse", "--convert-gpu-to-host"]
PIPELINES = [
    (1, ["--verify-diagnostics"], None),
    (1, ["--dsv4-fuse"], None),
    (1, ["--canonicalize"], None),
    (1, ["--dsv4-plan-kernels", "--convert-dsv4-to-gpu"], None),
    (1, ["--dsv4-fuse", "--dsv4-plan-kernels=rows-per-workgroup=3", "--convert-dsv4-to-gpu",
         "--dsv4-host-launch"], None),
    (1, ["--convert-dsv4-to-loops"], None),
    (3, ["--dsv4-cpu-reference"], ["--convert-dsv4-to-loops"]),
    (2, ["--dsv4-fuse", "--dsv4-plan-kernels", "--convert-dsv4-to-gpu", "--dsv4-host-launch",
         "--convert-gpu-to-host"], EMULATED_KERNEL),
    (1, ["--dsv4-compile=chip=sm_90 output-dir={out}"], None),
    (1, ["--dsv4-compile=chip=gfx942 output-dir={out} format=isa"], None),
    (1, ["--dsv4-compile=chip=gfx950 output-dir={out}"], None),
    (1, ["--dsv4-write-code-objects=output-dir={out}"], None),
]
# RLIMIT_FSIZE of a compile that runs under one: smaller than a code object, or than a manifest.
FILE_SIZE_LIMITS = [512, 4096, 20000]
TOKEN = re.compile(r"-?0x[0-9A-Fa-f]+|-?\d+(?:\.\d+)?(?:e[+-]?\d+)?|[A-Za-z_][\w.]*|\S")
ATTRIBUTE = re.compile(r"(\b\w+ = )(-?\d+)( : i64)")
TENSOR_TYPE = re.compile(r"tensor<((?:[0-9?]+x)+)(\w+)>")
# Sizes a tensor dimension is changed to: dynamic, tiny, and what a layout or D would expect.
DIM_EDGES = ["?", "1", "2", "3", "4", "7", "8", "64", "128", "512"]
# Seeds without an expected error verify; most inputs start from one, so that the oracles past
# the verifier (compiles, CPU references) see many of them.
CLEAN_SEED_SHARE = 0.75


def seeds(root):
    """Every `// -----` chunk of every .mlir file in the repo (build trees excluded)."""
    chunks = []
    for folder in ("examples", "test"):
        for dirpath, _, files in os.walk(os.path.join(root, folder)):
            for name in sorted(files):
                if name.endswith(".mlir"):
                    with open(os.path.join(dirpath, name), encoding="utf-8") as f:
                        chunks += [c for c in f.read().split("// -----") if c.strip()]
    return chunks


def mutate_type(rng, text):
    """One dimension of one tensor type changed everywhere the type is spelled: the function's
    signature and its ops' type lists stay consistent, so the input still parses."""
    types = sorted(set(m.group(0) for m in TENSOR_TYPE.finditer(text)))
    if not types:
        return text
    old = rng.choice(types)
    match = TENSOR_TYPE.fullmatch(old)
    dims = match.group(1)[:-1].split("x")
    dims[rng.randrange(len(dims))] = rng.choice(DIM_EDGES)
    return text.replace(old, "tensor<%sx%s>" % ("x".join(dims), match.group(2)))


def mutate_attribute(rng, text):
    """An integer attribute (page_size, ratio, rope_dim, block, ...) set to an edge value."""
    found = list(ATTRIBUTE.finditer(text))
    if not found:
        return text
    m = rng.choice(found)
    return text[:m.start(2)] + rng.choice(EDGE_INTEGERS) + text[m.end(2):]


def mutate_line(rng, text):
    """One change to one line, which may leave the text malformed."""
    lines = text.split("\n")
    kind = rng.randrange(6)
    i = rng.randrange(len(lines))
    if kind == 0:  # a number (a dynamic size among them) or a word replaced by an edge value
        tokens = TOKEN.findall(lines[i])
        if tokens:
            old = rng.choice(tokens)
            numeric = old[-1].isdigit() or old == "?"
            lines[i] = lines[i].replace(old, rng.choice(EDGE_NUMBERS if numeric else EDGE_WORDS),
                                        1)
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
    return "\n".join(lines)


def mutate(rng, text):
    """Half the inputs get one change that keeps the text well formed (a dimension of a type, an
    integer attribute), so that many still verify and reach the oracles past the verifier; the
    others get one to three changes of any kind."""
    if rng.random() < 0.5:
        return rng.choice([mutate_type, mutate_attribute])(rng, text)
    for _ in range(rng.randint(1, 3)):
        text = rng.choice([mutate_type, mutate_attribute] + [mutate_line] * 4)(rng, text)
    return text


def one_input(args, tools, chunks, work, rng, index):
    clean = [c for c in chunks if "expected-error" not in c]
    text = mutate(rng, rng.choice(clean if rng.random() < CLEAN_SEED_SHARE else chunks))
    out = os.path.join(work, "out%d" % index)
    _, flags, execute = rng.choices(PIPELINES, weights=[p[0] for p in PIPELINES])[0]
    flags = [f.format(out=out) for f in flags]
    writes = any(f.startswith(("--dsv4-compile", "--dsv4-write-code-objects")) for f in flags)
    limit = rng.choice(FILE_SIZE_LIMITS) if writes and rng.random() < 0.25 else None
    replay = "  flags: %s%s\n--- input ---\n%s" % (
        " ".join(flags), " (RLIMIT_FSIZE %d)" % limit if limit else "", text)
    done = fuzzlib.run([args.dsv4_opt, "-", "-o", os.devnull] + flags, args.timeout, stdin=text,
                       file_size_limit=limit)
    problem = fuzzlib.crash_problem(done, args.timeout, "dsv4-opt")
    if not problem and done.returncode == 0 and writes:
        problem = fuzzlib.written_problem(tools, done.stderr, out)
    if (not problem and done.returncode == 0 and execute is not None and
            rng.random() < args.exec_share):
        problem = fuzzlib.execution_problem(tools, text, rng, execute)
    return problem, replay


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    fuzzlib.add_tool_arguments(parser)
    parser.add_argument("--root", required=True, help="the repository, for its .mlir files")
    parser.add_argument("--exec-share", type=float, default=1.0,
                        help="share of the CPU-reference runs that are also executed")
    args = parser.parse_args()
    tools = fuzzlib.Tools(args)
    chunks = seeds(args.root)
    if not chunks:
        sys.exit("no .mlir seeds under %s" % args.root)
    with tempfile.TemporaryDirectory() as work:
        ok = all([fuzzlib.campaign(seed, args.runs,
                                   lambda rng, i: one_input(args, tools, chunks, work, rng, i),
                                   args.keep_going)
                  for seed in fuzzlib.seeds_to_run(args)])
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
