"""The examples of a document name DeepSeek-V4 production configurations only: every kernel name
(dsv4_decode_... / dsv4_prefill_...) in it, and the kernel of every dsv4.Config(...) in it, must
be the name dsv4-gen gives a line of examples/production.txt on some chip. Prints each example
with its verdict and a summary; exits 1 when one is not a production kernel.

Run: production_examples.py DSV4_GEN FILE...
"""
import ast
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "bench"))
import write_benchmarks  # noqa: E402  (production_lines, kernel_name: scripts/run's naming)

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "python"))
import dsv4  # noqa: E402

CHIPS = ("gfx942", "gfx950", "sm_90")
NAME = re.compile(r"\bdsv4_(?:decode|prefill)_\w+")
CONFIG = re.compile(r"\bdsv4\.Config\(")


def production_names(gen):
    return {name for chip in CHIPS for name in write_benchmarks.production_names(gen, chip)}


def config_calls(text):
    """The source of every dsv4.Config(...) call in `text` that is Python (prose such as
    `dsv4.Config(..., layout="indexer")` elides its arguments and is skipped)."""
    for match in CONFIG.finditer(text):
        depth = 0
        for end in range(match.end() - 1, len(text)):
            depth += {"(": 1, ")": -1}.get(text[end], 0)
            if depth == 0:
                source = text[match.start():end + 1]
                if "..." not in source:
                    yield source
                break


def config_name(gen, source):
    """The kernel name of the configuration `source` spells, on gfx942 (a store's FP8 type)."""
    call = ast.parse(source, mode="eval").body
    config = dsv4.Config(*[ast.literal_eval(a) for a in call.args],
                         **{k.arg: ast.literal_eval(k.value) for k in call.keywords})
    return write_benchmarks.kernel_name(gen, tuple(config.gen_args("gfx942")))


def main(gen, *files):
    production = production_names(gen)
    examples = 0
    wrong = 0
    for path in files:
        with open(path) as f:
            text = f.read()
        found = [(name, name) for name in NAME.findall(text)]
        found += [(source, config_name(gen, source)) for source in config_calls(text)]
        for example, name in found:
            ok = name in production
            print(f"{os.path.basename(path)}: {example} -> {name}: "
                  f"{'production' if ok else 'NOT a production kernel'}")
            examples += 1
            wrong += not ok
    print(f"{examples} examples, {wrong} not production")
    return 1 if wrong or not examples else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
