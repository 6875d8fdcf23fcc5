# lit configuration of the dsv4 test suite (mirrors the source tree).
import os
import shutil
import sys

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "DSV4"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.dsv4_obj_root, "test")
# Inputs/ are files tests read.
config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py"]

config.substitutions.append(("%PATH%", config.environment["PATH"]))
config.substitutions.append(("%shlibext", config.llvm_shlib_ext))
config.substitutions.append(("%dsv4_src_root", config.dsv4_src_root))
config.substitutions.append(("%dsv4_obj_root", config.dsv4_obj_root))
config.substitutions.append(("%dsv4_tools_dir", config.dsv4_tools_dir))
config.substitutions.append(("%dsv4_runtime_test_dir", config.dsv4_runtime_test_dir))
config.substitutions.append(("%dsv4_fake_hip", config.dsv4_fake_hip))
config.substitutions.append(("%dsv4_fake_cuda", config.dsv4_fake_cuda))
config.substitutions.append(("%dsv4_runtime_lib", config.dsv4_runtime_lib))
config.substitutions.append(("%dsv4_python_dir", os.path.join(config.dsv4_src_root, "python")))
config.substitutions.append(("%dsv4_device_dir", os.path.join(config.dsv4_src_root, "device")))
config.substitutions.append(
    ("%mlir_c_runner_utils",
     os.path.join(config.mlir_lib_dir, "libmlir_c_runner_utils" + config.llvm_shlib_ext)))
config.substitutions.append(
    ("%mlir_runner_utils",
     os.path.join(config.mlir_lib_dir, "libmlir_runner_utils" + config.llvm_shlib_ext)))

# ptxas (CUDA toolkit, no GPU needed) assembles every PTX the suite writes: it refuses what a
# driver would refuse to load. assemble_ptx.py says clearly when it is missing.
ptxas = os.environ.get("DSV4_PTXAS", "/usr/local/cuda/bin/ptxas")
config.substitutions.append(("%ptxas", ptxas))
config.substitutions.append(
    ("%assemble_ptx",
     "python3 %s %s" % (os.path.join(config.dsv4_src_root, "test", "Target", "assemble_ptx.py"),
                        ptxas)))

llvm_config.use_default_substitutions()
llvm_config.with_system_environment(["HOME", "TMP", "TEMP"])
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.with_environment("PATH", config.dsv4_tools_dir, append_path=True)

tool_dirs = [config.dsv4_tools_dir, config.llvm_tools_dir]
tools = ["dsv4-opt", "dsv4-gen", "dsv4-schedule-check", "dsv4-ue8m0-check", "mlir-runner", "llvm-readelf", "llvm-objdump", "llc", "ld.lld",
         ToolSubst("%python", "python3", unresolved="ignore")]
llvm_config.add_tool_substitutions(tools, tool_dirs)


def _python_with(probe):
    """The first Python 3 that runs `probe` without error: lit's own, then Debian's."""
    import subprocess
    for python in (sys.executable, "/usr/bin/python3", shutil.which("python3")):
        if python and subprocess.run([python, "-c", probe], capture_output=True).returncode == 0:
            return python
    return None


def _optional_feature(feature, probe, note):
    """Feature `feature` and substitution %<feature>_python where a Python runs `probe`; else a
    test that needs it is UNSUPPORTED, with `note` printed once."""
    python = _python_with(probe)
    if python:
        config.available_features.add(feature)
        config.substitutions.append((f"%{feature}_python", python))
    else:
        lit_config.note(note)


# torch.library.custom_op is torch >= 2.4.
_optional_feature("torch", "import torch; torch.library.custom_op",
                  "no torch >= 2.4 installed: test/Python/torch-ops.test (the torch ops under "
                  "torch.compile) is skipped")
_optional_feature("numpy", "import numpy",
                  "no Python with numpy (apt install python3-numpy): test/Examples/decode-loop.test "
                  "is skipped")
# setuptools first: importing pip before it trips Debian's distutils hack.
_optional_feature("pip", "import setuptools, pip",
                  "no Python with pip and setuptools (apt install python3-pip "
                  "python3-setuptools): test/Packaging/pip.test is skipped")

# Root can run a step as another user (setpriv): test/Python/library-shared.test.
if os.geteuid() == 0 and shutil.which("setpriv"):
    config.available_features.add("root")
