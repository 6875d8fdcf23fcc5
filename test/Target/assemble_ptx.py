#!/usr/bin/env python3
"""Assembles every .ptx file in DIR with ptxas for sm_90, spills and warnings as errors.

Usage: assemble_ptx.py PTXAS DIR [--allow-spills]. ptxas rejects what a GPU driver would reject at load time
(static shared memory over 48 KiB, bad symbol names), so a PTX the suite writes must pass.
Prints "assembled N PTX files"; exits 1 naming the first file ptxas refuses.
"""
import os
import subprocess
import sys


def main():
    ptxas, folder = sys.argv[1:3]
    allow_spills = sys.argv[3:] == ["--allow-spills"]
    if not os.access(ptxas, os.X_OK):
        sys.exit("error: ptxas not found at '%s' (install the CUDA toolkit's ptxas there, "
                 "or set DSV4_PTXAS)" % ptxas)
    files = sorted(f for f in os.listdir(folder) if f.endswith(".ptx"))
    for name in files:
        checks = [] if allow_spills else ["--warn-on-spills", "--warning-as-error"]
        command = [ptxas, "-arch=sm_90", *checks, os.path.join(folder, name), "-o", os.devnull]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit("error: ptxas refused %s:\n%s" % (name, done.stderr))
    print("assembled %d PTX files" % len(files))


if __name__ == "__main__":
    main()
