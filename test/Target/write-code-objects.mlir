// dsv4-write-code-objects refuses what it would write wrongly: a binary whose name would leave
// the output folder (it used to write out/../escaped.sm_90.ptx), one that names no recorded
// kernel (a #dsv4.kernel record of convert-dsv4-to-gpu), and (test/Target/errors.test) a
// missing output-dir.
// RUN: rm -rf %t && dsv4-opt %s --dsv4-write-code-objects="output-dir=%t/out" -split-input-file -verify-diagnostics
// RUN: not ls %t/escaped.sm_90.ptx

module attributes {dsv4.kernels = {"../escaped" = {mode = "decode"}}} {
  // expected-error @+1 {{kernel name '../escaped' is not a valid symbol: use ASCII letters, digits and '_', not starting with a digit, other than '_' alone and PTX's reserved WARP_SZ}}
  gpu.binary @"../escaped" [#gpu.object<#nvvm.target<chip = "sm_90">, assembly = "// ptx">]
}

// -----

module attributes {dsv4.kernels = {}} {
  // expected-error @+1 {{no dsv4 kernel named 'k' was recorded: run convert-dsv4-to-gpu first}}
  gpu.binary @k [#gpu.object<#nvvm.target<chip = "sm_90">, assembly = "// ptx">]
}

// -----

// An entry that is not a #dsv4.kernel record (the untyped dictionary of earlier versions) is
// no record either.
module attributes {dsv4.kernels = {k = {mode = "decode"}}} {
  // expected-error @+1 {{no dsv4 kernel named 'k' was recorded: run convert-dsv4-to-gpu first}}
  gpu.binary @k [#gpu.object<#nvvm.target<chip = "sm_90">, assembly = "// ptx">]
}
