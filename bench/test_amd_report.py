"""CPU test of amd_report.py on a tiny HSACO built here (llc + ld.lld from LLVM 22) whose counts are
known from its source: 3 barriers, 2 global loads and 2 stores (one of each 16 bytes wide),
a 256-lane workgroup, 40000 bytes of LDS; plus an empty second kernel.
Run: python3 bench/test_amd_report.py
"""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import amd_report  # noqa: E402

KERNELS_LL = """
target triple = "amdgcn-amd-amdhsa"
@lds = internal addrspace(3) global [10000 x float] undef, align 16

define amdgpu_kernel void @probe(ptr addrspace(1) %p) #0 {
  %id = call i32 @llvm.amdgcn.workitem.id.x()
  %g = getelementptr float, ptr addrspace(1) %p, i32 %id
  %v = load float, ptr addrspace(1) %g
  %l = getelementptr [10000 x float], ptr addrspace(3) @lds, i32 0, i32 %id
  store float %v, ptr addrspace(3) %l
  call void @llvm.amdgcn.s.barrier()
  %id1 = xor i32 %id, 1
  %l1 = getelementptr [10000 x float], ptr addrspace(3) @lds, i32 0, i32 %id1
  %w = load float, ptr addrspace(3) %l1
  store float %w, ptr addrspace(1) %g
  call void @llvm.amdgcn.s.barrier()
  %q = getelementptr <4 x float>, ptr addrspace(1) %p, i32 %id
  %v4 = load <4 x float>, ptr addrspace(1) %q
  call void @llvm.amdgcn.s.barrier()
  %q2 = getelementptr <4 x float>, ptr addrspace(1) %q, i32 256
  store <4 x float> %v4, ptr addrspace(1) %q2
  ret void
}

define amdgpu_kernel void @empty() {
  ret void
}

declare i32 @llvm.amdgcn.workitem.id.x()
declare void @llvm.amdgcn.s.barrier()
attributes #0 = { "amdgpu-flat-work-group-size"="256,256" }
"""


def build_hsaco(workdir, chip="gfx942"):
    ll, obj, hsaco = (os.path.join(workdir, n) for n in ("k.ll", "k.o", "k.hsaco"))
    with open(ll, "w") as f:
        f.write(KERNELS_LL)
    bin_dir = amd_report.LLVM_BIN
    subprocess.run([os.path.join(bin_dir, "llc"), "-mtriple=amdgcn-amd-amdhsa", f"-mcpu={chip}", "-filetype=obj",
                    ll, "-o", obj], check=True)
    subprocess.run([os.path.join(bin_dir, "ld.lld"), "-shared", obj, "-o", hsaco], check=True)
    return hsaco


def test_occupancy_formula():
    occ = amd_report.occupancy
    assert occ(20, 0, 256, "gfx942") == {"by_vgpr": 8, "by_lds": 8, "waves_per_simd": 8}  # 24 regs: 21 waves, cap 8
    assert occ(128, 0, 256, "gfx942")["by_vgpr"] == 4
    assert occ(100, 0, 256, "gfx942")["by_vgpr"] == 4     # 104 allocated -> 4.9 -> 4
    assert occ(44, 0, 64, "gfx942")["by_vgpr"] == 8       # 44 includes 32 AGPRs: 48 allocated -> 10 -> cap 8
    assert occ(512, 0, 64, "gfx942")["by_vgpr"] == 1
    # 40000 B of LDS -> 40448 allocated; gfx942 fits 1 group of 4 waves per CU = 1 wave per SIMD,
    # gfx950 (160 KiB) fits 4 groups = 4 waves per SIMD.
    assert occ(20, 40000, 256, "gfx942") == {"by_vgpr": 8, "by_lds": 1, "waves_per_simd": 1}
    assert occ(20, 40000, 256, "gfx950")["by_lds"] == 4
    assert occ(20, 16384, 64, "gfx942")["by_lds"] == 1     # 4 groups of 1 wave spread over 4 SIMDs


def test_access_bytes():
    ab = amd_report.access_bytes
    assert (ab("global_load_dwordx4"), ab("buffer_store_dword"), ab("global_load_b128")) == (16, 4, 16)
    assert (ab("buffer_load_ushort"), ab("global_load_short_d16_hi"), ab("buffer_load_ubyte")) == (2, 2, 1)
    assert ab("global_load_dwordx2") == 8 and ab("global_load_lds_dwordx4") == 16


def test_report_on_built_hsaco():
    with tempfile.TemporaryDirectory() as workdir:
        hsaco = build_hsaco(workdir)
        rows = {r["kernel"]: r for r in amd_report.report_object(hsaco)}
        # The object needs no manifest to be reported: rows come from the code object alone.
        listed = amd_report.code_objects(workdir)
    assert listed == [(hsaco, None)]
    assert set(rows) == {"probe", "empty"}
    probe, empty = rows["probe"], rows["empty"]
    assert probe["chip"] == "gfx942" and probe["workgroup_size"] == 256 and probe["wavefront_size"] == 64
    assert probe["s_barrier"] == 3
    assert (probe["vmem_load"], probe["vmem_store"], probe["vmem_16B"], probe["max_access_bytes"]) == (2, 2, 2, 16)
    assert probe["ds"] == 2 and probe["lds_bytes"] == 40000 and probe["scratch_bytes"] == 0
    # The probe's LDS allows 1 wave per SIMD and one of its stores is 4 bytes; the empty kernel
    # stores nothing.
    assert amd_report.check_static(probe) == ["8 waves per SIMD", "16-byte stores"]
    assert amd_report.check_static(empty) == ["16-byte stores"]
    assert probe["by_lds"] == 1 and probe["waves_per_simd"] == 1
    assert probe["vmem_store_16B"] == 1 and probe["ds_lds"] == 2
    classes = ("vmem_load", "vmem_store", "vmem_atomic", "scratch", "ds", "valu", "salu", "smem", "s_barrier",
               "s_waitcnt", "other")
    assert sum(probe[c] for c in classes) == probe["total"]
    assert probe["valu"] > 0 and probe["smem"] >= 1 and probe["s_waitcnt"] >= 1
    assert probe["code_bytes"] % 4 == 0 and probe["code_bytes"] <= probe["text_bytes"]
    # The empty kernel is one s_endpgm: the padding after it is not code.
    assert (empty["total"], empty["code_bytes"], empty["s_barrier"], empty["salu"]) == (1, 4, 0, 1)
    table = amd_report.format_table([probe, amd_report.REFERENCE])
    assert "probe" in table and "triton-reference" in table


def test_notes_parser_skips_args():
    notes = amd_report.parse_notes("""amdhsa.kernels:
  - .agpr_count:     0
    .args:
      - .name:           p
        .offset:         0
        .size:           8
    .name:           k1
    .vgpr_count:     7
  - .name:           k2
    .vgpr_count:     9
amdhsa.target:   amdgcn-amd-amdhsa--gfx950
""")
    assert notes["k1"][".vgpr_count"] == 7 and ".offset" not in notes["k1"] and notes["k1"][".agpr_count"] == 0
    assert notes["k2"] == {".name": "k2", ".vgpr_count": 9, "target": "amdgcn-amd-amdhsa--gfx950"}


def test_report_reads_manifest_resources():
    # dsv4 kernels: the figures come from the manifest's "resources" (deliberately unlike the
    # note's here), and only the manifest's kernel is reported.
    resources = {"vgpr_count": 200, "sgpr_count": 7, "agpr_count": 0, "group_segment_fixed_size": 1024,
                 "private_segment_fixed_size": 0, "vgpr_spill_count": 0, "sgpr_spill_count": 0,
                 "wavefront_size": 64}
    manifest = {"kernel": "probe", "chip": "gfx942", "workgroup_size": 256, "resources": resources}
    with tempfile.TemporaryDirectory() as workdir:
        rows = amd_report.report_object(build_hsaco(workdir), manifest)
    assert [r["kernel"] for r in rows] == ["probe"]
    assert (rows[0]["vgpr"], rows[0]["sgpr"], rows[0]["lds_bytes"]) == (200, 7, 1024)


def test_static_targets():
    good = {"vgpr": 64, "scratch_bytes": 0, "scratch": 0, "spills": 0, "waves_per_simd": 8, "vmem_store": 4,
            "vmem_store_16B": 4, "lds_bytes": 0, "s_barrier": 0, "ds_lds": 0}
    assert amd_report.check_static(good) == []
    assert amd_report.check_static(dict(good, vgpr=65)) == ["vgpr <= 64 (AGPRs included)"]
    assert amd_report.check_static(dict(good, spills=1)) == ["no scratch"]
    assert amd_report.check_static(dict(good, vmem_store_16B=3)) == ["16-byte stores"]
    # A store kernel writes narrower FP8 bytes and scales, and must convert by the instruction.
    store = dict(good, store_kernel=True, vmem_store_16B=0, fp8_cvt=8)
    assert amd_report.check_static(store) == []
    assert amd_report.check_static(dict(store, fp8_cvt=0)) == ["FP8 by v_cvt_pk_fp8_f32"]
    assert amd_report.check_static(dict(store, vmem_store=0)) == ["FP8 by v_cvt_pk_fp8_f32"]
    # An MXFP4 store kernel converts to e2m1: by v_cvt_scalef32_pk_fp4_f32 on gfx950, written
    # out on gfx942; it needs no FP8 conversion.
    mxfp4 = dict(store, layout="indexer_mxfp4", fp8_cvt=0, fp4_cvt=2, chip="gfx950")
    assert amd_report.check_static(mxfp4) == []
    assert amd_report.check_static(dict(mxfp4, fp4_cvt=0)) == ["e2m1 by v_cvt_scalef32_pk_fp4_f32 on gfx950"]
    assert amd_report.check_static(dict(mxfp4, fp4_cvt=0, chip="gfx942")) == []
    assert amd_report.check_static(dict(mxfp4, vmem_store=0, chip="gfx942")) == [
        "e2m1 by v_cvt_scalef32_pk_fp4_f32 on gfx950"]
    # LDS traffic or a barrier in a kernel that allocates no LDS exchange slot.
    assert amd_report.check_static(dict(good, s_barrier=1)) == ["no LDS access or barrier without LDS"]


if __name__ == "__main__":
    test_static_targets()
    test_occupancy_formula()
    test_access_bytes()
    test_notes_parser_skips_args()
    test_report_on_built_hsaco()
    test_report_reads_manifest_resources()
    print("test_amd_report: ok")
