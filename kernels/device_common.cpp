// Pieces of the device runtime shared by CUDA and CPU-only builds.
#include "kernels/device.h"

namespace sakuga::device {

Precision parse_precision(const std::string& s) {
  if (s == "fp32") return Precision::fp32;
  if (s == "tf32") return Precision::tf32;
  if (s == "bf16") return Precision::bf16;
  SAKUGA_FAIL("--precision: expected fp32, tf32 or bf16, got '", s, "'");
}

const char* precision_name(Precision p) {
  switch (p) {
    case Precision::fp32: return "fp32";
    case Precision::tf32: return "tf32";
    case Precision::bf16: return "bf16";
  }
  return "?";
}

}  // namespace sakuga::device
