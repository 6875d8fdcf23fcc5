"""What the dsv4 fuzzers (fuzz_dsv4_opt.py, fuzz_dsv4_gen.py) share: running a tool, and the
oracles that tell a bad answer from a clean refusal.

- crash_problem: a signal, a hang, or text only a crash or a broken invariant prints.
- written_problem: a compile that exits 0 has written every file it names, non-empty and inside
  its output folder; each PTX assembles with ptxas and each code object loads through the
  runtime shim (its fake HIP/CUDA), the two consumers of what the compiler writes.
- execution_problem: the CPU reference of an input that verifies, run by mlir-runner on small
  tensors with MLIR's runtime checks of every memref access, neither faults nor reads or writes
  out of bounds.
"""
import collections
import os
import random
import re
import resource
import signal
import subprocess

# What the oracles looked at, for the summary line: a campaign that checks nothing finds nothing.
CHECKED = collections.Counter()

# Text in a diagnostic that only a crash or a broken invariant produces.
CRASH_MARKERS = ("LLVM ERROR", "Stack dump", "PLEASE submit a bug report", "Assertion",
                 "AddressSanitizer", "UndefinedBehaviorSanitizer", "runtime error:",
                 "UNREACHABLE")


class Tools:
    """The programs the oracles run; ptxas and the launch check are optional (None: skipped)."""

    def __init__(self, args):
        self.dsv4_opt = args.dsv4_opt
        self.mlir_runner = args.mlir_runner
        self.runner_libs = args.runner_libs
        self.ptxas = args.ptxas if args.ptxas and os.access(args.ptxas, os.X_OK) else None
        self.launch_check = args.launch_check
        self.fake_hip = args.fake_hip
        self.fake_cuda = args.fake_cuda
        self.timeout = args.timeout


def add_tool_arguments(parser):
    parser.add_argument("--dsv4-opt", required=True)
    parser.add_argument("--mlir-runner", help="runs the CPU reference (execution oracle)")
    parser.add_argument("--runner-libs", default="",
                        help="comma-separated shared libraries for mlir-runner")
    parser.add_argument("--ptxas", help="assembles every PTX a compile writes")
    parser.add_argument("--launch-check", help="dsv4-launch-check: loads every code object")
    parser.add_argument("--fake-hip", help="the fake HIP the launch check loads HSACOs with")
    parser.add_argument("--fake-cuda", help="the fake CUDA the launch check loads PTX with")
    parser.add_argument("--runs", type=int, default=100, help="inputs per seed (>= 10000: a long run)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--random-seed", action="store_true",
                        help="then as many inputs from a fresh seed, printed for replay")
    parser.add_argument("--timeout", type=int, default=60)
    parser.add_argument("--keep-going", action="store_true",
                        help="report every problem, not only the first (a long run)")


# A hang is judged by CPU time (RLIMIT_CPU), so that a loaded machine cannot turn a slow
# compile into one (a 6-kernel compile under ASan at nice 19 and a load of 10 once ran past
# 60 s of wall time and replays in 1 s); a child that waits without computing is still caught
# by the wall clock at this many times the limit.
WALL_CLOCK_FACTOR = 10


def run(command, timeout, stdin=None, file_size_limit=None, cwd=None):
    """Runs `command`; returns the CompletedProcess, or None when it used more than `timeout`
    seconds of CPU (or WALL_CLOCK_FACTOR times as many of wall time).
    `file_size_limit` (bytes) is the child's RLIMIT_FSIZE."""
    def limit():
        resource.setrlimit(resource.RLIMIT_CPU, (timeout, timeout + 1))
        if file_size_limit:
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))
    try:
        done = subprocess.run(command, input=stdin, capture_output=True, text=True,
                              errors="replace", timeout=timeout * WALL_CLOCK_FACTOR, cwd=cwd,
                              preexec_fn=limit)
    except subprocess.TimeoutExpired:
        return None
    return None if done.returncode in (-signal.SIGXCPU, -signal.SIGKILL) else done


def crash_problem(done, timeout, what):
    if done is None:
        return "%s hangs (over %d s of CPU)" % (what, timeout)
    if done.returncode < 0:
        return "%s: signal %d" % (what, -done.returncode)
    for marker in CRASH_MARKERS:
        if marker in done.stderr or marker in done.stdout:
            return "%s: '%s' in the output" % (what, marker)
    return None


def written_problem(tools, stderr, out_dir):
    """The files a successful compile reports (`remark: wrote PATH`), checked as above."""
    inside = os.path.realpath(out_dir) + os.sep
    for path in re.findall(r"remark: wrote (\S+)", stderr):
        CHECKED["files written"] += 1
        if not os.path.realpath(path).startswith(inside):
            return "wrote '%s', outside the output folder '%s'" % (path, out_dir)
        if not os.path.isfile(path) or os.path.getsize(path) == 0:
            return "exit 0 but '%s' is missing or empty" % path
        if path.endswith(".ptx") and tools.ptxas:
            done = run([tools.ptxas, "-arch=sm_90", path, "-o", os.devnull], tools.timeout)
            if done is None or done.returncode != 0:
                return "ptxas refuses '%s': %s" % (path, done.stderr.strip() if done else "hang")
        if path.endswith((".ptx", ".hsaco")) and tools.launch_check:
            # The fake HIP's device is the object's chip (`<kernel>.<chip>.hsaco`).
            driver = ({"DSV4_CUDA_LIBRARY": tools.fake_cuda} if path.endswith(".ptx") else
                      {"DSV4_HIP_LIBRARY": tools.fake_hip,
                       "DSV4_FAKE_HIP_ARCH": path.rsplit(".", 2)[-2]})
            done = subprocess.run([tools.launch_check, path], capture_output=True, text=True,
                                  errors="replace", env=dict(os.environ, **driver))
            load = re.search(r"^load: (.*)$", done.stdout, re.M)
            if not load or not load.group(1).startswith("DSV4_OK"):
                return "the runtime shim refuses '%s': %s" % (
                    path, load.group(1) if load else done.stdout + done.stderr)
    return None


# --- The execution oracle ------------------------------------------------------------------

TENSOR = re.compile(r"^tensor<((?:[0-9?]+x)*)([a-zA-Z0-9]+)>$")
# Values the integer arguments cycle through: seq_lens on and off a boundary, padding, huge ones;
# out_loc in the first pages, negative, and far outside any cache.
SEQ_LENS = [4, 8, 5, 0, -1, 12, 2147483647, 64, 128, 3]
OUT_LOCS = [0, 1, 63, 64, -1, 4611686018427387904, 130, 7, 9223372036854775807, 2]
# The size given to a dynamic dimension: kv-like rows, and the byte size of a cache.
DYNAMIC_ROWS, DYNAMIC_CACHE_BYTES = 8, 8192
MAX_ELEMENTS = 1 << 20


def split_top_level(text):
    """`text` split at the commas outside <>, (), [] and {}."""
    parts, depth, start = [], 0, 0
    for i, c in enumerate(text):
        if c in "<([{":
            depth += 1
        elif c in ">)]}":
            depth -= 1
        elif c == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    if text[start:].strip():
        parts.append(text[start:].strip())
    return parts


def constant(type_text, rng, index):
    """MLIR lines that make argument `index` of `type_text` as a value %a<index>, or None when
    the harness cannot make one."""
    if type_text in ("f32", "f16", "bf16", "f64"):
        return ["%%a%d = arith.constant 0.5 : %s" % (index, type_text)]
    if re.fullmatch(r"i(1|8|16|32|64)", type_text):
        return ["%%a%d = arith.constant 1 : %s" % (index, type_text)]
    match = TENSOR.match(type_text)
    if not match:
        return None
    dims = [d for d in match.group(1).split("x") if d]
    element = match.group(2)
    shape = [int(d) if d != "?" else
             (DYNAMIC_CACHE_BYTES if element == "i8" and len(dims) == 1 else DYNAMIC_ROWS)
             for d in dims]
    count = 1
    for d in shape:
        count *= d
    if count > MAX_ELEMENTS:
        return None
    static = "tensor<%s%s>" % ("".join("%dx" % d for d in shape), element)
    if element in ("i32", "i64") and 1 <= len(shape) <= 2 and count:
        pool = OUT_LOCS if element == "i64" else SEQ_LENS
        if len(shape) == 2 and shape[1] == 4:    # a prefill plan: (row, batch, position, window)
            rows = [[m if m % 5 else -1, 0, 4 * m + 3, 4] for m in range(shape[0])]
        elif len(shape) == 2 and shape[1] == 2:  # work items: (row, position)
            rows = [[m, rng.choice(SEQ_LENS)] for m in range(shape[0])]
        elif len(shape) == 2:
            rows = [[pool[(m + k) % len(pool)] for k in range(shape[1])] for m in range(shape[0])]
        else:
            rows = [pool[(m + index) % len(pool)] for m in range(shape[0])]
        value = "dense<%s>" % str(rows).replace(" ", "")
    elif element.startswith(("i", "ui", "si")):
        value = "dense<0>"
    elif element.startswith(("f", "bf")):
        value = "dense<0.5>" if element in ("f32", "f16", "bf16", "f64") else "dense<0.0>"
    else:
        return None
    if static == type_text:
        return ["%%a%d = arith.constant %s : %s" % (index, value, static)]
    return ["%%s%d = arith.constant %s : %s" % (index, value, static),
            "%%a%d = tensor.cast %%s%d : %s to %s" % (index, index, static, type_text)]


# A public function with a body, as dsv4-opt prints it: name, parameters, results, body.
FUNCTION = re.compile(r"^  func\.func @([\w$.]+|\"[^\"\n]*\")\(([^\n]*)\)(?: -> ([^\n]*?))?"
                      r"(?: attributes \{[^\n]*\})? \{\n(.*?)^  \}$", re.M | re.S)
# The ops a called function may hold: its dsv4 ops and what feeds them. Code of any other kind
# (a test's own @main, which reads its results with tensor.extract) is the input's, and an
# access of it out of bounds is no fault of the compiler.
KERNEL_BODY_OP = re.compile(r"^\s*(?:%[^=]+= )?(?:dsv4\.|arith\.constant |return\b)")


def with_main(printed, rng):
    """`printed` (a module as dsv4-opt prints it) plus @fuzz_main, which calls each public
    function of it that holds a dsv4 op and nothing but what feeds it, with arguments the
    harness can make; None when there is none."""
    calls = []
    for name, params, results, body in FUNCTION.findall(printed):
        ops = [line for line in body.splitlines() if line.strip()]
        if not any("dsv4." in op for op in ops) or not all(map(KERNEL_BODY_OP.match, ops)):
            continue
        lines, types = [], []
        for index, param in enumerate(split_top_level(params)):
            type_text = re.sub(r"\s*\{.*\}$", "", param.split(":", 1)[1].strip())
            made = constant(type_text, rng, len(calls) * 100 + index)
            if made is None:
                break
            lines += made
            types.append(type_text)
        else:
            results = (results or "").strip()
            if results.startswith("("):
                results = results[1:-1]
            args = ", ".join("%%a%d" % (len(calls) * 100 + i) for i in range(len(types)))
            call = "func.call @%s(%s) : (%s) -> (%s)" % (name, args, ", ".join(types), results)
            count = len(split_top_level(results))
            lines.append(("%%r%d:%d = " % (len(calls), count) if count else "") + call)
            calls.append(lines)
    if not calls:
        return None
    body = "\n".join("    " + line for lines in calls for line in lines)
    main = "  func.func @fuzz_main() {\n%s\n    return\n  }\n" % body
    end = printed.rstrip().rfind("}")
    return printed[:end] + main + printed[end:]


def execution_problem(tools, text, rng, passes=("--convert-dsv4-to-loops",)):
    """The CPU reference of `text`, when it verifies, runs cleanly on small tensors. `passes`
    come before MLIR's runtime checks (every memref access in bounds), then the pipeline."""
    if not tools.mlir_runner:
        return None
    printed = run([tools.dsv4_opt, "-"], tools.timeout, stdin=text)
    problem = crash_problem(printed, tools.timeout, "dsv4-opt (printing)")
    if problem or printed.returncode != 0:
        return problem
    module = with_main(printed.stdout, rng)
    if module is None:
        return None
    lowered = run([tools.dsv4_opt, "-", *passes, "--generate-runtime-verification",
                   "--dsv4-cpu-reference"], tools.timeout, stdin=module)
    problem = crash_problem(lowered, tools.timeout, "dsv4-opt (the CPU reference)")
    if problem or lowered.returncode != 0:
        return problem
    command = [tools.mlir_runner, "-e", "fuzz_main", "-entry-point-result=void"]
    if tools.runner_libs:
        command.append("-shared-libs=" + tools.runner_libs)
    done = run(command, tools.timeout, stdin=lowered.stdout)
    CHECKED["CPU references run"] += 1
    if done is None:
        return None  # a slow input (huge loops), not a fault
    if done.returncode < 0:  # SIGABRT: a runtime check failed (an access out of bounds)
        return "the CPU reference of a verified input dies at run time (signal %d)" % (
            -done.returncode)
    if done.returncode != 0:
        return "the CPU reference of a verified input fails at run time: %s" % (
            done.stderr.strip()[:300])
    return None


def campaign(seed, runs, one_input, keep_going=False):
    """Runs `one_input(rng, index)` `runs` times from `seed`; prints the first problem (every
    one with `keep_going`) with the input that made it, or one summary line. Returns True when
    nothing was found."""
    rng = random.Random(seed)
    CHECKED.clear()
    found = 0
    for index in range(runs):
        problem, replay = one_input(rng, index)
        if problem:
            print("FAIL (seed %d, run %d): %s\n%s" % (seed, index, problem, replay), flush=True)
            found += 1
            if not keep_going:
                return False
    checked = ", ".join("%s: %d" % item for item in sorted(CHECKED.items()))
    if found:
        print("seed %d: %d inputs, %d problems (%s)" % (seed, runs, found, checked))
    else:
        print("seed %d: %d inputs, no problem (%s)" % (seed, runs, checked))
    return not found


def seeds_to_run(args):
    seeds = [args.seed]
    if args.random_seed:
        seeds.append(random.SystemRandom().randrange(1 << 31))
        print("random seed %d (replay: --seed %d --runs %d)" % (seeds[-1], seeds[-1], args.runs))
    return seeds
