// Test main: applies the CPU thread policy (kernels/device.h) and makes warnings fatal (a test
// that provokes a warning it did not ask for fails; expected ones are caught with
// log::CaptureWarnings) before running doctest.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "kernels/device.h"
#include "kernels/log.h"

int main(int argc, char** argv) {
  sakuga::device::set_cpu_threads(sakuga::device::default_cpu_threads());
  sakuga::log::set_fatal_warnings(true);
  doctest::Context ctx(argc, argv);
  return ctx.run();
}
