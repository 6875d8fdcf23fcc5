"""Builds libdsv4_runtime.so (CMake, from ../lib/Runtime) into the dsv4 package.

$DSV4_RUNTIME_LIB names an already built shim to ship instead (a GPU machine that built it
with `cmake -S lib/Runtime`, or the test suite); $DSV4_JSON_INCLUDE_DIR is passed on to CMake.
The version is the repository's VERSION file.
"""
import os
import shutil
import subprocess
from pathlib import Path

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py

try:
    from setuptools.command.bdist_wheel import bdist_wheel  # setuptools 70.1 and later
except ImportError:
    from wheel.bdist_wheel import bdist_wheel  # before: the wheel package's (README.md)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SHIM = "libdsv4_runtime.so"


class BuildPyWithRuntime(build_py):
    """The pure-Python files, plus the shim next to them."""

    def run(self):
        super().run()
        target = Path(self.build_lib) / "dsv4" / SHIM
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self._shim(), target)

    def _shim(self):
        prebuilt = os.environ.get("DSV4_RUNTIME_LIB")
        if prebuilt:
            if not Path(prebuilt).is_file():
                raise SystemExit(f"error: $DSV4_RUNTIME_LIB names '{prebuilt}', which is not a file")
            return prebuilt
        source = ROOT / "lib" / "Runtime"
        if not (source / "CMakeLists.txt").is_file():
            raise SystemExit(f"error: the runtime sources are not at '{source}': install from a "
                             "dsv4 checkout, or set $DSV4_RUNTIME_LIB to a built libdsv4_runtime.so")
        build = Path(self.get_finalized_command("build").build_temp) / "runtime"
        self.announce(f"building {SHIM} with CMake in {build}", level=2)
        configure = ["cmake", "-S", str(source), "-B", str(build), "-DCMAKE_BUILD_TYPE=Release",
                     "-DDSV4_RUNTIME_BUILD_TESTS=OFF"]
        # Where nlohmann/json.hpp is not installed system-wide (lib/Runtime/CMakeLists.txt).
        if os.environ.get("DSV4_JSON_INCLUDE_DIR"):
            configure.append(f"-DDSV4_JSON_INCLUDE_DIR={os.environ['DSV4_JSON_INCLUDE_DIR']}")
        subprocess.check_call(configure)
        subprocess.check_call(["cmake", "--build", str(build), "--target", "dsv4_runtime"])
        return build / "lib" / SHIM


class BinaryDistribution(Distribution):
    """The wheel holds a native library, so it is a platform wheel (platlib)."""

    def has_ext_modules(self):
        return True


class PlatformWheel(bdist_wheel):
    """Tagged py3-none-<platform>: any Python 3 loads the shim through ctypes (no extension
    module, no Python ABI), but only on the platform it was built for. bdist_wheel's own tag
    for a platform wheel names this interpreter (cp311-cp311), which no other one installs."""

    def get_tag(self):
        platform = super().get_tag()[2]
        return "py3", "none", platform


setup(version=(ROOT / "VERSION").read_text().strip(),
      cmdclass={"build_py": BuildPyWithRuntime, "bdist_wheel": PlatformWheel},
      distclass=BinaryDistribution)
