// What dsv4-opt and dsv4-gen set up before they parse their command line. Header-only: each
// tool's main includes it once.
#ifndef DSV4_TOOLS_TOOLSETUP_H
#define DSV4_TOOLS_TOOLSETUP_H

#include "Version.h"

#include "llvm/Config/llvm-config.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/raw_ostream.h"

#include <csignal>
#include <cstring>
#include <vector>

namespace dsv4_tools {

/// LLVM's `-h` (an alias of `--help`) also takes every unknown option that starts with `--h`:
/// `--headdim=128` printed the help on stdout and exited 0. So `-h` is an option of its own,
/// which blocks that alias and is never set: commandLine() spells the word `-h` `--help`.
/// (An option that prints the help from a callback is taken for such a typo again.)
inline llvm::cl::opt<bool> shortHelp("h", llvm::cl::desc("Alias for --help"),
                                     llvm::cl::ReallyHidden, llvm::cl::ValueDisallowed);

/// The arguments to parse: argv with each `-h` before a `--` spelled `--help`.
inline std::vector<char *> commandLine(int argc, char **argv) {
  static char help[] = "--help";
  std::vector<char *> args(argv, argv + argc);
  for (char *&arg : args) {
    if (std::strcmp(arg, "--") == 0)
      break;
    if (std::strcmp(arg, "-h") == 0)
      arg = help;
  }
  return args;
}

/// `dsv4 <VERSION> (git <revision>)`, then the LLVM it was built with.
inline void printVersion(llvm::raw_ostream &os) {
  os << "dsv4 " << DSV4_VERSION;
  if (*DSV4_GIT_REVISION)
    os << " (git " << DSV4_GIT_REVISION << ")";
  os << "\n  built with LLVM " << LLVM_VERSION_STRING << "\n";
}

/// Call after llvm::InitLLVM (which installs LLVM's signal handlers) and before parsing.
inline void setUpTool() {
  llvm::cl::SetVersionPrinter(printVersion);
  // A write past RLIMIT_FSIZE then fails with EFBIG, which the writer reports as one error on
  // the file; SIGXFSZ would kill the process through LLVM's crash handler (banner and stack
  // dump). LLVM installs its handlers once, so this stays.
  std::signal(SIGXFSZ, SIG_IGN);
}

} // namespace dsv4_tools

#endif // DSV4_TOOLS_TOOLSETUP_H
