// `sakuga info`: version, build flags, CUDA/cuDNN/cuBLAS versions and devices.
#include <cstdio>

#include "apps/commands.h"
#include "kernels/comm.h"
#include "kernels/cpu/blas_kernels.h"
#include "kernels/device.h"
#include "sakuga_build_info.h"
#include "tensor/tensor.h"

namespace sakuga::app {

namespace {

std::string version_str(int v, int major_div, int minor_div, int minor_mod) {
  if (v <= 0) return "n/a";
  return std::to_string(v / major_div) + "." + std::to_string((v / minor_div) % minor_mod);
}

int run_info() {
  std::printf("sakuga %s (commit %s, built %s, %s, %s)\n", SAKUGA_VERSION, SAKUGA_GIT_COMMIT, SAKUGA_BUILD_DATE,
              SAKUGA_BUILD_TYPE, SAKUGA_CXX_COMPILER);
  std::printf("build: CUDA %s", device::cuda_built() ? "on" : "off");
  if (device::cuda_built()) std::printf(" (architectures sm_%s)", SAKUGA_CUDA_ARCHS);
  std::printf(", OpenBLAS CPU GEMM, OpenMP, data-parallel: MPI %s, NCCL %s\n", dist::mpi_built() ? "on" : "off",
              dist::nccl_built() ? "on" : "off");
  if (device::cuda_built()) {
    device::Versions v = device::versions();
    std::printf("CUDA runtime %s, driver %s, cuDNN %s, cuBLAS %s\n", version_str(v.cuda_runtime, 1000, 10, 100).c_str(),
                v.cuda_driver ? version_str(v.cuda_driver, 1000, 10, 100).c_str() : "none",
                version_str(v.cudnn, 10000, 100, 100).c_str(), version_str(v.cublas, 10000, 100, 100).c_str());
  }
  auto devs = device::devices();
  if (devs.empty()) {
    std::printf("devices: cpu only (%s)\n", device::cuda_unavailable_reason().c_str());
  } else {
    for (const auto& d : devs)
      std::printf("device cuda:%d: %s, compute capability %d.%d, %d SMs, %.1f GiB\n", d.index, d.name.c_str(),
                  d.cc_major, d.cc_minor, d.sm_count, double(d.total_bytes) / (1 << 30));
  }
  std::printf("cpu threads: %d (SAKUGA_THREADS or --threads to change)\n", device::default_cpu_threads());
  std::printf("cpu GEMM: OpenBLAS %s kernels (OPENBLAS_CORETYPE to choose; kernels/cpu/blas_kernels.h)\n",
              kernels::cpu::blas_core());
  std::printf("defaults: device auto → %s, precision %s, deterministic %s\n",
              Device::parse("auto").str().c_str(), devs.empty() ? "fp32" : "tf32",
              device::deterministic() ? "on" : "off");
  std::printf("kernel launches: %s (SAKUGA_SYNC_LAUNCHES=1 waits for the device after every launch, so a "
              "device fault names its kernel)\n",
              device::sync_launches() ? "synchronised after each launch" : "asynchronous");
  return 0;
}

}  // namespace

void ComputeOptions::add_to(CLI::App* cmd) {
  cmd->add_option("--device", device, "auto | cpu | cuda | cuda:N")->capture_default_str();
  cmd->add_option("--precision", precision, "fp32 | tf32 | bf16 (default: tf32 on GPU, fp32 on CPU)");
  cmd->add_flag("--nondeterministic", nondeterministic, "allow faster nondeterministic GPU algorithms");
  cmd->add_option("--threads", threads, "CPU threads (default: $SAKUGA_THREADS, else $OMP_NUM_THREADS, else the physical cores)");
}

std::string ComputeOptions::apply() const {
  device::set_cpu_threads(threads > 0 ? threads : device::default_cpu_threads());
  Device d = Device::parse(device);
  // Data-parallel on GPUs: each rank of a node takes its own device unless one was named.
  const dist::Launch launch = dist::launch_from_env();
  if (d.is_cuda() && launch.local_world > 1 && device.find(':') == std::string::npos)
    d = Device::cuda(launch.local_rank % std::max(1, device::cuda_device_count()));
  device::set_precision(precision.empty() ? (d.is_cuda() ? device::Precision::tf32 : device::Precision::fp32)
                                          : device::parse_precision(precision));
  device::set_deterministic(!nondeterministic);
  return d.str();
}

void add_info(CLI::App& app, Action& action) {
  auto* cmd = app.add_subcommand("info", "print version, build flags, CUDA libraries and devices");
  cmd->callback([&action] { action = run_info; });
}

}  // namespace sakuga::app
