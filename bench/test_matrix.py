"""CPU test of matrix.py's command line: the configuration and dtype filters an A/B run uses."""
import contextlib
import io
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import matrix  # noqa: E402


def rejected(argv):
    """Whether argparse refuses `argv` (exit status 2, a message naming the choices)."""
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            matrix.parse_args(argv)
    except SystemExit as e:
        message = err.getvalue()
        return e.code == 2 and ("choose among indexer, main" in message or
                                "choose among f32, bf16" in message)
    return False


def main():
    every = matrix.parse_args([])
    assert every.configs == ["indexer", "main"] and every.dtypes == ["f32", "bf16"], every
    assert every.prefill_sizes == list(matrix.PREFILL_ROWS), every
    picked = matrix.parse_args(["--configs", "main", "--dtypes", "bf16", "--prefill-sizes", ""])
    assert picked.configs == ["main"] and picked.dtypes == ["bf16"], picked
    assert picked.prefill_sizes == [], picked
    assert rejected(["--configs", "mian"])
    assert rejected(["--configs", ""])
    assert rejected(["--dtypes", "f32,fp8"])
    print("test_matrix: ok")


if __name__ == "__main__":
    main()
