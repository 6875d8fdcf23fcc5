"""The checkout's python/ (dsv4, and dsv4_reference's float64 models) and device/ (objects.py,
the manifests' discovery) on sys.path, after what is already there: bench runs from a checkout
with no PYTHONPATH (scripts/run, the suite's bench tests), and this is the one place it names
those folders. Imported first by every bench script that needs them."""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
for folder in ("python", "device"):
    path = os.path.join(ROOT, folder)
    if path not in sys.path:
        sys.path.append(path)
