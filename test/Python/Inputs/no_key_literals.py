"""Counts string literals under python/ that spell a manifest key (ManifestKeys.def) outside the
generated dsv4/_abi.py, naming each: the package reads its keys from that one file."""
import ast
import io
import sys
import tokenize
from pathlib import Path

root = Path(sys.argv[1])
sys.path.insert(0, str(root))
from dsv4 import _abi  # noqa: E402

keys = {v for k, v in vars(_abi).items() if k.isupper() and isinstance(v, str)}
found = 0
for path in sorted(root.rglob("*.py")):
    if path.name == "_abi.py" or "__pycache__" in path.parts:
        continue
    for tok in tokenize.generate_tokens(io.StringIO(path.read_text()).readline):
        if tok.type == tokenize.STRING:
            try:
                value = ast.literal_eval(tok.string)
            except (ValueError, SyntaxError):
                continue
            if value in keys:
                found += 1
                print(f"{path}:{tok.start[0]}: {tok.string}")
print(f"{found} manifest keys spelled outside dsv4/_abi.py")
