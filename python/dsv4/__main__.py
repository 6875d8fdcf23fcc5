"""python3 -m dsv4 --index DIR: writes the index.json of a folder of dsv4 kernels (scripts/run)."""
import argparse
from pathlib import Path

from .library import INDEX_NAME, write_index


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 -m dsv4",
                                     description="Writes a kernel library's index.json.")
    parser.add_argument("--index", metavar="DIR", required=True,
                        help="folder of dsv4-opt code objects and manifests")
    args = parser.parse_args(argv)
    try:
        count = write_index(args.index)
    except (OSError, ValueError) as e:
        parser.exit(1, f"error: {e}\n")
    print(f"indexed {count} kernels in {Path(args.index) / INDEX_NAME}")


if __name__ == "__main__":
    main()
