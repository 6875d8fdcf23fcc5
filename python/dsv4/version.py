"""The dsv4 version: the repository's VERSION file, or the installed package's metadata."""
from pathlib import Path


def _version():
    source = Path(__file__).resolve().parents[2] / "VERSION"
    if source.is_file():
        return source.read_text().strip()
    from importlib.metadata import version
    return version("dsv4")


__version__ = _version()
