// Pieces of the device runtime shared by CUDA and CPU-only builds.
#include <cblas.h>
#include <omp.h>

#include <cstdlib>

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

int default_cpu_threads() {
  const char* env = std::getenv("SAKUGA_THREADS");
  if (!env || !*env) return 1;
  char* end = nullptr;
  long n = std::strtol(env, &end, 10);
  SAKUGA_CHECK(end && *end == '\0' && n >= 1 && n <= 1024, "SAKUGA_THREADS: expected a thread count >= 1, got '",
               env, "'");
  return int(n);
}

void set_cpu_threads(int n) {
  SAKUGA_CHECK(n >= 1, "--threads: expected >= 1, got ", n);
  omp_set_num_threads(n);
  openblas_set_num_threads(n);
}

int cpu_threads() { return omp_get_max_threads(); }

bool sync_launches_value(const char* env) { return env && std::string(env) == "1"; }

bool sync_launches() {
  static const bool on = sync_launches_value(std::getenv("SAKUGA_SYNC_LAUNCHES"));
  return on;
}

const char* deferred_error_message(DeferredError e) {
  switch (e) {
    case DeferredError::one_hot_label: return "one_hot: a label outside [0, C) was seen at or before this point";
    case DeferredError::cross_entropy_target:
      return "cross_entropy: a target outside [0, C) that is not ignore_index was seen at or before this point "
             "(its loss and gradient are NaN)";
    case DeferredError::nll_target:
      return "nll_loss: a target outside [0, C) that is not ignore_index was seen at or before this point (its "
             "loss and gradient are NaN)";
    case DeferredError::focal_target:
      return "softmax_focal_loss: a target outside [0, C) that is not ignore_index was seen at or before this "
             "point (its loss and gradient are NaN)";
    case DeferredError::gather_index:
      return "gather: an index outside [0, size of the gathered dim) was seen at or before this point (it read "
             "0 and got no gradient)";
    case DeferredError::index_select_index:
      return "index_select: an index outside [0, size of the selected dim) was seen at or before this point (it "
             "read 0 and got no gradient)";
    case DeferredError::count: break;
  }
  return "unknown deferred error";
}

}  // namespace sakuga::device
