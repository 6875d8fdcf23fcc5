"""Writes the manifest IN with edits to stdout. Usage: edit_manifest.py IN EDIT...; an edit is
KEY=JSON (set KEY to that JSON value), -KEY (remove KEY), or args=store|compress|in-place (the
argument list of that kernel kind, taken from the test inputs beside this file)."""
import json
import os
import sys

HERE = os.path.dirname(__file__)
LISTS = {"in-place": "decode_f32.json", "store": "store_f32.json",
         "compress": "compress_f32.json"}

manifest = json.load(open(sys.argv[1]))
for edit in sys.argv[2:]:
    if edit.startswith("-"):
        del manifest[edit[1:]]
        continue
    key, value = edit.split("=", 1)
    if key == "args" and value in LISTS:
        manifest["args"] = json.load(open(os.path.join(HERE, LISTS[value])))["args"]
    else:
        manifest[key] = json.loads(value)
print(json.dumps(manifest, indent=2))
