"""Builds libdsv4_runtime.so (CMake, from ../lib/Runtime) into the dsv4 package.

$DSV4_RUNTIME_LIB names an already built shim to ship instead (a GPU machine that built it
with `cmake -S lib/Runtime`, or the test suite); $DSV4_JSON_INCLUDE_DIR is passed on to CMake.
The version is the repository's VERSION file.

The package also carries the kernel library, as dsv4/kernels/ (found before any other by
dsv4.get_kernel): the one $DSV4_KERNEL_LIBRARY names (an absolute path), else the checkout's
out/ (scripts/run writes it); only what its indexes list is copied. Without a library the
build fails, naming both; DSV4_KERNEL_LIBRARY=none builds a package without kernels.
"""
import os
import shutil
import subprocess
import sys
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
ABI_DIR = ROOT / "include" / "dsv4" / "ABI"


class BuildPyWithRuntime(build_py):
    """The pure-Python files, plus the shim next to them."""

    def run(self):
        super().run()
        # The ABI tables' Python face, generated from include/dsv4/ABI/*.def when the build has
        # them (a checkout); a copy of python/ alone ships dsv4/_abi.py as it is (abi.test holds
        # it to the tables).
        if ABI_DIR.is_dir():
            (Path(self.build_lib) / "dsv4" / "_abi.py").write_text(
                _generate_abi().render(ABI_DIR))
        target = Path(self.build_lib) / "dsv4" / SHIM
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self._shim(), target)
        self._ship_kernel_library(target.parent)

    def _ship_kernel_library(self, package):
        """The kernel library into the built package; a previous build's is removed first."""
        library = _package_library_module()
        target = package / library.PACKAGE_LIBRARY.name
        shutil.rmtree(target, ignore_errors=True)
        source = _kernel_library()
        if source is None:
            self.warn(f"${LIBRARY_VARIABLE}={NO_LIBRARY}: the package carries no kernels; "
                      "dsv4.get_kernel compiles each configuration on first use, which needs "
                      "dsv4-gen and dsv4-opt")
            return
        try:
            files = library.library_files(source)
        except ValueError as e:
            raise SystemExit(f"error: cannot ship the dsv4 kernel library: {e}. Run scripts/run "
                             f"(it writes out/), or set ${LIBRARY_VARIABLE} to the folder it "
                             f"wrote, or to '{NO_LIBRARY}' for a package without kernels")
        self.announce(f"shipping {len(files)} files of the kernel library {source}", level=2)
        for name in files:
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / name, target / name)

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


LIBRARY_VARIABLE = "DSV4_KERNEL_LIBRARY"
NO_LIBRARY = "none"  # the value of $DSV4_KERNEL_LIBRARY that ships no kernels


def _kernel_library():
    """The library folder to ship: $DSV4_KERNEL_LIBRARY, else the checkout's out/; None for
    DSV4_KERNEL_LIBRARY=none."""
    chosen = os.environ.get(LIBRARY_VARIABLE)
    if chosen == NO_LIBRARY:
        return None
    if chosen and not Path(chosen).is_absolute():
        # pip runs this in the package's folder, not where the command was typed.
        raise SystemExit(f"error: ${LIBRARY_VARIABLE} must be an absolute path, got '{chosen}'")
    return Path(chosen) if chosen else ROOT / "out"


def _package_library_module():
    """dsv4.library of the package being built: what a library's files are (its indexes)."""
    sys.path.insert(0, str(HERE))
    from dsv4 import library
    return library


def _generate_abi():
    """python/generate_abi.py, which writes dsv4/_abi.py from the ABI tables."""
    sys.path.insert(0, str(HERE))
    import generate_abi
    return generate_abi


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
