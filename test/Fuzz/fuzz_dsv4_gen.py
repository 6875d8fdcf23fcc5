#!/usr/bin/env python3
"""Option fuzzer for dsv4-gen: every command line is a kernel that compiles and loads, or one
error on stderr with a non-zero exit.

Each input is a valid configuration with up to three mutations: an option set to an edge value
(sizes the kernels multiply, bad names, non-numbers), dropped, misspelled or doubled, an
unknown option or a stray argument, --help or --version. It fails (fuzzlib.py) on
  - a signal, a hang, crash text;
  - a refusal that prints anything on stdout (the help text of a typo went there, exit 0), or
    nothing on stderr;
  - an exit 0 without --help/--version whose output dsv4-opt does not verify, whose function is
    not the name --print-name gives, or anything on stderr;
  - for a share of the accepted ones, a compile for a chip that exits 0 with a file outside
    its folder, a PTX ptxas refuses or an object the runtime shim refuses, and a CPU reference
    that faults or accesses memory out of bounds when run on small tensors.

  fuzz_dsv4_gen.py --dsv4-gen BIN --dsv4-opt BIN --runs N [--seed S] [--random-seed]
                   [--mlir-runner BIN --runner-libs A,B] [--ptxas BIN]
                   [--launch-check BIN --fake-hip SO --fake-cuda SO]
                   [--compile-share F] [--exec-share F]
"""
import argparse
import os
import re
import shlex
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fuzzlib  # noqa: E402

CHIPS = ["gfx942", "gfx950", "sm_90"]
HEAD_DIMS = ["64", "128", "256", "512", "1024", "2048", "4096"]
# Valid values, then edges: sizes around the limits (2^20 tokens a page, ratio below 2^31, D
# in [64, 4096]) and far past them (2^54, 2^56 and 2^62 overflowed a page's bytes), and text.
VALUES = {
    "mode": (["decode", "prefill", "sglang_decode", "sglang_extend"],
             ["train", "", "DECODE", "sglang", "compress"]),
    "head-dim": (HEAD_DIMS, ["0", "-1", "63", "100", "8192", "2147483648", "abc", ""]),
    "rope-dim": (["2", "32", "64", "128"], ["0", "1", "63", "-2", "4097", "2147483648"]),
    "kv-dtype": (["f32", "bf16", "f16"], ["f64", "i32", ""]),
    "weight-dtype": (["f32", "bf16"], ["f16", "x"]),
    "eps": (["1e-6", "1e-5", "0.001"], ["0", "-1e-6", "nan", "inf", "1e-50", "1e+50", "x"]),
    "ratio": (["1", "4", "128", "2147483647"],
              ["0", "-4", "2147483648", "4294967296", "9223372036854775807", "x"]),
    "rotate": (["true", "false"], ["2", "maybe"]),
    "scale": (["0.5", "0.0625", "-1"], ["nan", "inf", "1e+50", "x"]),
    "layout": (["indexer", "main", "indexer_mxfp4"], ["paged", ""]),
    "page-size": (["1", "16", "64", "1048576"],
                  ["0", "48", "-64", "2097152", "2147483648", "18014398509481984",
                   "72057594037927936", "4611686018427387904", "9223372036854775807"]),
    "fp8": (["fn", "fnuz"], ["e5m2", ""]),
    "out-loc-dtype": (["i64", "i32"], ["i16", "I32", "u32", ""]),
    "chip": (CHIPS, ["gfx90a", "sm_80", ""]),
    "name": (["k", "my_kernel", "_k", "K9"],
             ["_", "WARP_SZ", "../x", "a-b", "9a", "a b", "", "x" * 300]),
}
STRAYS = ["--headdim=128", "--head_dim=128", "--hx", "--foo", "-x", "extra", "--ratio",
          "--layout", "--=1", "-", "--name"]


def base_config(rng):
    """A valid configuration as {option: value}."""
    layout = rng.random() < 0.4 and rng.choice(["indexer", "main", "indexer_mxfp4"])
    config = {"mode": rng.choice(VALUES["mode"][0]), "ratio": rng.choice(["4", "128", "1"])}
    if layout:
        config["layout"] = layout
        if rng.random() < 0.3:
            config["out-loc-dtype"] = rng.choice(VALUES["out-loc-dtype"][0])
        config["head-dim"] = "512" if layout == "main" else "128"
        config["page-size"] = rng.choice(VALUES["page-size"][0])
        config["chip"] = rng.choice(CHIPS)
    else:
        config["head-dim"] = rng.choice(HEAD_DIMS[:5])
        config["rope-dim"] = rng.choice(["32", "64"])
    if rng.random() < 0.3:
        config["kv-dtype"] = rng.choice(["f32", "bf16", "f16"])
    return config


def command_line(rng):
    """A list of dsv4-gen arguments: a valid configuration with up to three mutations."""
    config = base_config(rng)
    strays = []
    for _ in range(rng.randrange(4)):
        kind = rng.randrange(6)
        option = rng.choice(sorted(VALUES))
        valid, edges = VALUES[option]
        if kind <= 1:
            config[option] = rng.choice(edges if kind == 0 else valid)
        elif kind == 2:
            config.pop(option, None)
        elif kind == 3:  # a misspelled option name: one character dropped, doubled or swapped
            name = list(option)
            k = rng.randrange(len(name))
            rng.choice([lambda: name.pop(k), lambda: name.insert(k, name[k]),
                        lambda: name.__setitem__(k, rng.choice("-_x"))])()
            strays.append("--%s=%s" % ("".join(name), rng.choice(valid)))
        elif kind == 4:
            strays.append(rng.choice(STRAYS))
        else:
            strays.append("--%s=%s" % (option, rng.choice(valid + edges)))
    argv = ["--%s=%s" % item for item in config.items()] + strays
    rng.shuffle(argv)
    if rng.random() < 0.03:
        argv.append(rng.choice(["--help", "-h", "--version"]))
    return argv


def informs(argv):
    """The arguments ask for help or the version (a clean exit 0 with text on stdout)."""
    return any(a in ("--help", "-h", "--version", "--help-list") for a in argv)


def one_input(args, tools, work, rng, index):
    argv = command_line(rng)
    replay = "  dsv4-gen %s" % " ".join(shlex.quote(a) for a in argv)
    done = fuzzlib.run([args.dsv4_gen] + argv, args.timeout)
    problem = fuzzlib.crash_problem(done, args.timeout, "dsv4-gen")
    if problem:
        return problem, replay
    if done.returncode != 0:
        if done.stdout:
            return "exit %d with output on stdout: %r" % (done.returncode,
                                                          done.stdout[:200]), replay
        if not done.stderr.strip():
            return "exit %d without a message on stderr" % done.returncode, replay
        return None, replay
    if informs(argv):
        return None, replay
    if done.stderr.strip():
        return "exit 0 with text on stderr: %r" % done.stderr[:200], replay
    return accepted_problem(args, tools, work, rng, index, argv, done.stdout), replay


def accepted_problem(args, tools, work, rng, index, argv, ir):
    """The oracles of an accepted configuration (the module docstring)."""
    verified = fuzzlib.run([args.dsv4_opt, "-", "-o", os.devnull], args.timeout, stdin=ir)
    problem = fuzzlib.crash_problem(verified, args.timeout, "dsv4-opt (verifying)")
    if problem:
        return problem
    if verified.returncode != 0:
        return "exit 0 but dsv4-opt refuses its IR: %s" % verified.stderr.strip()[:300]
    named = fuzzlib.run([args.dsv4_gen, "--print-name"] + argv, args.timeout)
    function = re.search(r"func\.func @(\S+?)\(", ir)
    if named is None or not function or named.stdout.strip() != function.group(1):
        return "--print-name says %r, the function is %r" % (
            named.stdout.strip() if named else None, function and function.group(1))
    if rng.random() < args.compile_share:
        given = [a.split("=", 1)[1] for a in argv if a.startswith("--chip=")]
        chip = given[-1] if given and given[-1] in CHIPS else rng.choice(CHIPS)
        out = os.path.join(work, "out%d" % index)
        done = fuzzlib.run([args.dsv4_opt, "-", "--dsv4-compile=chip=%s output-dir=%s" %
                            (chip, out), "-o", os.devnull], args.timeout, stdin=ir)
        problem = fuzzlib.crash_problem(done, args.timeout, "dsv4-opt --dsv4-compile")
        if not problem and done.returncode == 0:
            problem = fuzzlib.written_problem(tools, done.stderr, out)
        if problem:
            return "%s (compiled for %s)" % (problem, chip)
    if rng.random() < args.exec_share:
        return fuzzlib.execution_problem(tools, ir, rng)
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    fuzzlib.add_tool_arguments(parser)
    parser.add_argument("--dsv4-gen", required=True)
    parser.add_argument("--compile-share", type=float, default=0.1,
                        help="share of the accepted configurations that are compiled")
    parser.add_argument("--exec-share", type=float, default=0.1,
                        help="share of the accepted configurations whose CPU reference runs")
    args = parser.parse_args()
    tools = fuzzlib.Tools(args)
    with tempfile.TemporaryDirectory() as work:
        ok = all([fuzzlib.campaign(seed, args.runs,
                                   lambda rng, i: one_input(args, tools, work, rng, i),
                                   args.keep_going)
                  for seed in fuzzlib.seeds_to_run(args)])
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
