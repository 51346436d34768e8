#pragma once
// OpenBLAS chooses its GEMM kernels once, when the library loads, by the CPU model it knows. A
// CPU newer than the library (Debian 12's OpenBLAS 0.3.21 on a 2024 Xeon, model 207) is not in
// its tables and gets the slowest kernels it has (Prescott, SSE3): sgemm measured 29 GFLOP/s
// there on one thread against 113 with the AVX-512 (SkylakeX) ones. The only way to choose is
// the OPENBLAS_CORETYPE variable, read at load time, so a binary that finds itself on the slow
// kernels while the CPU has AVX2 / AVX-512 sets it and starts itself again.

namespace sakuga::kernels::cpu {

// The core OpenBLAS runs (openblas_get_corename), e.g. "SkylakeX", "Haswell", "Prescott".
const char* blas_core();
// The OpenBLAS core this CPU should run: "SkylakeX" (AVX-512 F/BW/DQ/VL), "Haswell" (AVX2 and
// FMA), or nullptr when OpenBLAS's own choice is as good as these.
const char* best_blas_core();
// Called first in main: when OPENBLAS_CORETYPE is unset, OpenBLAS runs an older core than
// best_blas_core() and /proc/self/exe can be executed, sets the variable and re-executes the
// program with the same arguments (it does not return then). Otherwise returns, changing
// nothing. Set OPENBLAS_CORETYPE yourself to choose (or to keep OpenBLAS's choice).
void use_fast_blas_kernels(char** argv);

}  // namespace sakuga::kernels::cpu
