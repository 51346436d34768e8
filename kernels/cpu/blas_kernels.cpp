// See kernels/cpu/blas_kernels.h.
#include "kernels/cpu/blas_kernels.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <initializer_list>

extern "C" char* openblas_get_corename(void);

namespace sakuga::kernels::cpu {

const char* blas_core() { return openblas_get_corename(); }

const char* best_blas_core() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  // libgcc's checks include the OS saving the wide registers (XCR0), as OpenBLAS's do.
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512vl"))
    return "SkylakeX";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
#endif
  return nullptr;
}

namespace {

// OpenBLAS x86-64 cores that are at least as fast as Haswell's kernels on the CPUs they are
// chosen for: a run on one of these is left alone.
bool modern_core(const char* core) {
  for (const char* c : {"Haswell", "SkylakeX", "CooperLake", "SapphireRapids", "Zen"})
    if (std::strcmp(core, c) == 0) return true;
  return false;
}

}  // namespace

void use_fast_blas_kernels(char** argv) {
  if (std::getenv("OPENBLAS_CORETYPE") != nullptr) return;
  const char* best = best_blas_core();
  const char* now = blas_core();
  if (best == nullptr || now == nullptr || modern_core(now)) return;
  if (access("/proc/self/exe", X_OK) != 0) return;
  setenv("OPENBLAS_CORETYPE", best, 1);
  execv("/proc/self/exe", argv);
  // execv failed: carry on with the kernels OpenBLAS chose (the variable stays set, harmlessly).
}

}  // namespace sakuga::kernels::cpu
