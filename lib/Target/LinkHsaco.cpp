// dsv4-link-hsaco: the AMDGPU assembly that gpu-module-to-binary writes (format=isa) becomes an
// HSACO here, the way upstream's format=bin would make it (ROCDL::assembleIsa, then
// `ld.lld -shared`), except that the linker runs under a time limit. Upstream's
// ROCDL::linkObjectCode waits for ld.lld forever and offers no hook to bound it, so a hanging
// linker would hang dsv4-opt: this pass is the one link step of the AMD pipeline.
#include "dsv4/Target/Passes.h"
#include "dsv4/Target/Toolkit.h"
#include "dsv4/Target/WriteFile.h"

#include "mlir/Target/LLVM/ROCDL/Utils.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Program.h"

#include <chrono>
#include <sys/resource.h>

namespace mlir::dsv4 {
#define GEN_PASS_DEF_DSV4LINKHSACO
#include "dsv4/Target/Passes.h.inc"
} // namespace mlir::dsv4

using namespace mlir;
using namespace mlir::dsv4;

namespace {
/// At most this much of what a failing linker printed goes into the error.
constexpr size_t kMaxLinkerOutput = 2000;

/// A temporary file removed when it goes out of scope.
struct TempFile {
  llvm::SmallString<128> path;
  llvm::FileRemover remover;
};

FailureOr<std::unique_ptr<TempFile>> createTempFile(Location loc, StringRef suffix) {
  auto file = std::make_unique<TempFile>();
  if (std::error_code error = llvm::sys::fs::createTemporaryFile("dsv4-link", suffix, file->path))
    return emitError(loc) << "cannot create a temporary ." << suffix
                          << " file for the AMDGPU linker: " << error.message();
  file->remover.setFile(file->path);
  return file;
}

/// What `path` holds, or "" if it cannot be read.
std::string readFile(StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false);
  return buffer ? (*buffer)->getBuffer().str() : std::string();
}

struct Dsv4LinkHsacoPass : dsv4::impl::Dsv4LinkHsacoBase<Dsv4LinkHsacoPass> {
  using Dsv4LinkHsacoBase::Dsv4LinkHsacoBase;

  /// Checked once, before any pass runs: no IR to blame, only an option.
  LogicalResult initialize(MLIRContext *context) override {
    linker = linkerPath(resolveToolkit(toolkit));
    if (!llvm::sys::fs::can_execute(linker))
      return emitError(UnknownLoc::get(context))
             << "cannot find the AMDGPU linker: '" << linker
             << "' is missing or not executable (install lld-22, or pass toolkit=<dir> / set "
                "DSV4_TOOLKIT to a folder holding llvm/bin/ld.lld)";
    if (timeout == 0)
      return emitError(UnknownLoc::get(context))
             << "the link timeout must be at least 1 second";
    return success();
  }

  void runOnOperation() override {
    WalkResult result = getOperation().walk([&](gpu::BinaryOp binary) {
      SmallVector<Attribute> objects;
      for (auto object : binary.getObjects().getAsRange<gpu::ObjectAttr>()) {
        FailureOr<gpu::ObjectAttr> linked = link(binary, object);
        if (failed(linked))
          return WalkResult::interrupt();
        objects.push_back(*linked);
      }
      binary.setObjectsAttr(ArrayAttr::get(&getContext(), objects));
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }

private:
  /// `object` as an HSACO if it is AMDGPU assembly, else unchanged. Errors go to the location
  /// alone: the op would print its whole binary.
  FailureOr<gpu::ObjectAttr> link(gpu::BinaryOp binary, gpu::ObjectAttr object) {
    auto target = dyn_cast<ROCDL::ROCDLTargetAttr>(object.getTarget());
    if (!target || object.getFormat() != gpu::CompilationTarget::Assembly)
      return object;
    Location loc = binary.getLoc();
    FailureOr<SmallVector<char, 0>> isaObject =
        ROCDL::assembleIsa(object.getObject().getValue(), target.getTriple(), target.getChip(),
                           target.getFeatures(), [&] { return emitError(loc); });
    if (failed(isaObject))
      return failure();
    FailureOr<std::string> hsaco = runLinker(loc, *isaObject);
    if (failed(hsaco))
      return failure();
    return gpu::ObjectAttr::get(&getContext(), target, gpu::CompilationTarget::Binary,
                                StringAttr::get(&getContext(), *hsaco),
                                object.getProperties(), object.getKernels());
  }

  /// `ld.lld -shared` on `isaObject` with at most `timeout` seconds; its output (stdout and
  /// stderr) goes to a file, so that it can be shown and cannot hold a caller's pipe open.
  FailureOr<std::string> runLinker(Location loc, ArrayRef<char> isaObject) {
    FailureOr<std::unique_ptr<TempFile>> input = createTempFile(loc, "o");
    FailureOr<std::unique_ptr<TempFile>> output = createTempFile(loc, "hsaco");
    FailureOr<std::unique_ptr<TempFile>> log = createTempFile(loc, "log");
    if (failed(input) || failed(output) || failed(log))
      return failure();
    // Not llvm::writeToOutput: it aborts the compiler when the write fails (EFBIG, ENOSPC).
    if (std::error_code error =
            writeFileWhole((*input)->path, StringRef(isaObject.data(), isaObject.size())))
      return emitError(loc) << "cannot write the object for the AMDGPU linker: "
                            << error.message();

    StringRef logPath = (*log)->path;
    std::optional<StringRef> redirects[] = {StringRef(), logPath, logPath};
    std::string message;
    auto start = std::chrono::steady_clock::now();
    int status = llvm::sys::ExecuteAndWait(
        linker, {"ld.lld", "-shared", (*input)->path, "-o", (*output)->path},
        /*Env=*/std::nullopt, redirects, /*SecondsToWait=*/timeout, /*MemoryLimit=*/0, &message);
    std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    if (status == 0)
      return readFile((*output)->path);

    InFlightDiagnostic diag = emitError(loc) << "the AMDGPU linker '" << linker << "' ";
    // -2 is a signal, the timeout's SIGKILL included; LLVM says which in `message`, and the
    // clock confirms it should that wording change.
    unsigned limit = timeout;
    bool timedOut = StringRef(message).contains("timed out") || elapsed.count() >= limit;
    if (status == -2 && timedOut)
      return diag << "did not finish within the link timeout of " << limit
                  << " s and was killed";
    if (status < 0)
      return diag << "could not run or crashed: " << message;
    std::string printed = readFile(logPath);
    // A linker that crashed (LLD turns its own crash into exit code 1) is named so, without
    // its crash banner and stack dump: what it printed before them is the part to show.
    StringRef shown = printed;
    bool crashed = false;
    for (StringRef banner : {"PLEASE submit a bug report", "Stack dump:"})
      if (size_t at = shown.find(banner); at != StringRef::npos) {
        shown = shown.take_front(at);
        crashed = true;
      }
    shown = shown.take_front(kMaxLinkerOutput).rtrim();
    diag << (crashed ? "crashed" : "failed") << " with exit code " << status;
    // Under a file size limit (ulimit -f) LLD dies writing its output, saying nothing useful.
    if (rlimit limit; getrlimit(RLIMIT_FSIZE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY)
      diag << " (files may have at most " << uint64_t(limit.rlim_cur)
           << " bytes here: ulimit -f)";
    return diag << (shown.empty() ? "" : ":\n") << shown;
  }

  std::string linker;
};
} // namespace
