// Test main: applies the CPU thread policy (kernels/device.h) before running doctest.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "kernels/device.h"

int main(int argc, char** argv) {
  sakuga::device::set_cpu_threads(sakuga::device::default_cpu_threads());
  doctest::Context ctx(argc, argv);
  return ctx.run();
}
