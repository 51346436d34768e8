// Pieces of the device runtime shared by CUDA and CPU-only builds.
#include <sched.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <set>
#include <string>
#include <thread>

#include "kernels/cpu/parallel.h"
#include "kernels/comm.h"
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

namespace {

// A positive thread count from an environment variable, 0 when unset or empty.
int threads_from_env(const char* name) {
  const char* env = std::getenv(name);
  if (!env || !*env) return 0;
  char* end = nullptr;
  long n = std::strtol(env, &end, 10);
  SAKUGA_CHECK(end && *end == '\0' && n >= 1 && n <= 1024, name, ": expected a thread count from 1 to 1024, got '",
               env, "'");
  return int(n);
}

// Physical cores among the CPUs this process may run on (SMT siblings count once), like
// PyTorch's default; the CPU count when the topology cannot be read.
int physical_cores_available() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return std::max(1u, std::thread::hardware_concurrency());
  std::set<std::string> cores;
  int cpus = 0;
  bool topology = true;
  for (int c = 0; c < CPU_SETSIZE; ++c) {
    if (!CPU_ISSET(c, &set)) continue;
    ++cpus;
    std::ifstream f("/sys/devices/system/cpu/cpu" + std::to_string(c) + "/topology/thread_siblings_list");
    std::string siblings;
    if (f >> siblings)
      cores.insert(siblings);
    else
      topology = false;
  }
  if (!topology || cores.empty()) return std::max(1, cpus);
  return int(cores.size());
}

}  // namespace

int default_cpu_threads() {
  if (int n = threads_from_env("SAKUGA_THREADS")) return n;
  if (int n = threads_from_env("OMP_NUM_THREADS")) return n;
  // Ranks of a data-parallel job on this node share its cores.
  return std::max(1, std::min(physical_cores_available(), 1024) / std::max(1, dist::launch_from_env().local_world));
}

void set_cpu_threads(int n) {
  SAKUGA_CHECK(n >= 1, "--threads: expected >= 1, got ", n);
  kernels::cpu::set_pool_threads(n);
}

int cpu_threads() { return kernels::cpu::pool_threads(); }

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
