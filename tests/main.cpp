// Test main: applies the CPU thread policy (kernels/device.h) and makes warnings fatal (a test
// that provokes a warning it did not ask for fails; expected ones are caught with
// log::CaptureWarnings) before running doctest. `sakuga_tests --print-blas-core` prints the
// OpenBLAS core the tests run (kernels/cpu/blas_kernels.h), for the PyTorch oracles to use the same.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <cstring>

#include "kernels/cpu/blas_kernels.h"
#include "kernels/device.h"
#include "kernels/log.h"

int main(int argc, char** argv) {
  sakuga::kernels::cpu::use_fast_blas_kernels(argv);  // may restart the program (blas_kernels.h)
  if (argc == 2 && std::strcmp(argv[1], "--print-blas-core") == 0) {
    std::printf("%s\n", sakuga::kernels::cpu::blas_core());
    return 0;
  }
  sakuga::device::set_cpu_threads(sakuga::device::default_cpu_threads());
  sakuga::log::set_fatal_warnings(true);
  doctest::Context ctx(argc, argv);
  return ctx.run();
}
