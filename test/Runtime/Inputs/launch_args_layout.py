"""Compares dsv4.runtime._LaunchArgs (or, with argv[2] "compress", _CompressLaunchArgs) with
the C layout that dsv4-launch-args-layout printed (argv[1]: "name offset size" per field, then
"size N"); prints the agreed layout, exits 1 on a difference."""
import ctypes
import sys

from dsv4.runtime import _CompressLaunchArgs, _LaunchArgs

compress = sys.argv[2:] == ["compress"]
_LaunchArgs = _CompressLaunchArgs if compress else _LaunchArgs

lines = [line.split() for line in open(sys.argv[1])]
c_fields = [(name, int(offset), int(size)) for name, offset, size in lines[:-1]]
c_size = int(lines[-1][1])
py_fields = [(name, getattr(_LaunchArgs, name).offset, getattr(_LaunchArgs, name).size)
             for name, _ in _LaunchArgs._fields_]
if py_fields != c_fields or ctypes.sizeof(_LaunchArgs) != c_size:
    print("mismatch:\n  C:     ", c_fields, c_size,
          "\n  Python:", py_fields, ctypes.sizeof(_LaunchArgs))
    sys.exit(1)
for name, offset, size in py_fields:
    print(name, offset, size)
print(f"{len(c_fields)} fields match dsv4_{'compress_' if compress else ''}launch_args "
      f"({c_size} bytes)")
