# lit configuration of the dsv4 test suite (mirrors the source tree).
import os
import sys

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "DSV4"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.dsv4_obj_root, "test")
# GPU/ holds scripts for the device machine; Inputs/ are files tests read.
config.excludes = ["Inputs", "GPU", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py"]

config.substitutions.append(("%PATH%", config.environment["PATH"]))
config.substitutions.append(("%shlibext", config.llvm_shlib_ext))
config.substitutions.append(("%dsv4_src_root", config.dsv4_src_root))
config.substitutions.append(("%dsv4_obj_root", config.dsv4_obj_root))
config.substitutions.append(("%dsv4_tools_dir", config.dsv4_tools_dir))
config.substitutions.append(("%dsv4_runtime_test_dir", config.dsv4_runtime_test_dir))
config.substitutions.append(("%dsv4_fake_hip", config.dsv4_fake_hip))
config.substitutions.append(("%dsv4_runtime_lib", config.dsv4_runtime_lib))
config.substitutions.append(("%dsv4_python_dir", os.path.join(config.dsv4_src_root, "python")))
config.substitutions.append(
    ("%mlir_c_runner_utils",
     os.path.join(config.mlir_lib_dir, "libmlir_c_runner_utils" + config.llvm_shlib_ext)))
config.substitutions.append(
    ("%mlir_runner_utils",
     os.path.join(config.mlir_lib_dir, "libmlir_runner_utils" + config.llvm_shlib_ext)))

llvm_config.use_default_substitutions()
llvm_config.with_system_environment(["HOME", "TMP", "TEMP"])
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.with_environment("PATH", config.dsv4_tools_dir, append_path=True)

tool_dirs = [config.dsv4_tools_dir, config.llvm_tools_dir]
tools = ["dsv4-opt", "dsv4-gen", "dsv4-schedule-check", "mlir-runner", "llvm-readelf", "llvm-objdump", "llc", "ld.lld",
         ToolSubst("%python", "python3", unresolved="ignore")]
llvm_config.add_tool_substitutions(tools, tool_dirs)


def _python_with(probe):
    """The first Python 3 that runs `probe` without error: lit's own, then Debian's."""
    import shutil
    import subprocess
    for python in (sys.executable, "/usr/bin/python3", shutil.which("python3")):
        if python and subprocess.run([python, "-c", probe], capture_output=True).returncode == 0:
            return python
    return None


# Optional features: a test that needs one is UNSUPPORTED (with this note) where it is missing.
# torch.library.custom_op is torch >= 2.4.
_torch_python = _python_with("import torch; torch.library.custom_op")
if _torch_python:
    config.available_features.add("torch")
    config.substitutions.append(("%torch_python", _torch_python))
else:
    lit_config.note("no torch >= 2.4 installed: test/Python/torch-ops.test (the fake op under "
                    "torch.compile) is skipped")
# setuptools first: importing pip before it trips Debian's distutils hack.
_pip_python = _python_with("import setuptools, pip")
if _pip_python:
    config.available_features.add("pip")
    config.substitutions.append(("%pip_python", _pip_python))
else:
    lit_config.note("no Python with pip and setuptools (apt install python3-pip "
                    "python3-setuptools): test/Packaging/pip.test is skipped")
