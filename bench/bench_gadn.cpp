// GADN fused-loss benchmarks: forward + backward of each fused op next to the same loss written
// as a composition of elementwise and reduce ops (what the family would run without the op).
//   pixel L2 (L_rec): CUDA at the paper's stage-1 batch (8, 3, 256, 256); CPU at (8, 3, 64, 64).
//     bytes_per_second counts the fused pass's minimal traffic: read G and x, write d, and the
//     backward's read of d and write of ∂/∂G.
//   Gaussian sample + KL: the 256-px code (8, 256) and a large one (256, 4096) to see bandwidth
//     (read μ, σ, ε, write z; backward: read μ, σ, ε, g_z, write ∂/∂μ, ∂/∂σ).
// CUDA cases report "no CUDA device" (skipped) when none answers.
#include <benchmark/benchmark.h>

#include "kernels/device.h"
#include "tensor/ops/elementwise.h"
#include "tensor/ops/gadn.h"
#include "tensor/ops/reduce.h"
#include "tensor/random.h"

using namespace sakuga;

namespace {

bool have_device(benchmark::State& st, Device d) {
  if (d.is_cuda() && device::cuda_device_count() == 0) {
    st.SkipWithError("no CUDA device");
    return false;
  }
  return true;
}

void sync(Device d) {
  if (d.is_cuda()) device::synchronize(d.index);
}

Shape image_shape(Device d) { return d.is_cuda() ? Shape{8, 3, 256, 256} : Shape{8, 3, 64, 64}; }

// The unfused L_rec: mean over batch and pixels of the channel norm (uniform weights).
Tensor pixel_l2_unfused(const Tensor& g, const Tensor& x) {
  return ops::mean(ops::sqrt(ops::sum(ops::square(g - x), {1})));
}

void BM_pixel_l2(benchmark::State& st, Device d, bool fused) {
  if (!have_device(st, d)) return;
  const Shape s = image_shape(d);
  Generator gen(1);
  Tensor g = rand_uniform(s, -1, 1, gen, DType::f32, d).set_requires_grad(true);
  const Tensor x = rand_uniform(s, -1, 1, gen, DType::f32, d);
  for (auto _ : st) {
    Tensor loss = fused ? ops::pixel_l2_loss(g, x) : pixel_l2_unfused(g, x);
    loss.backward();
    sync(d);
    g.zero_grad();
  }
  st.SetBytesProcessed(shape_numel(s) * 4 * 5 * int64_t(st.iterations()));
}

// z and KL, then backward of Σ z·r + KL (r fixed).
ops::GaussianSampleKl gaussian_unfused(const Tensor& mu, const Tensor& sigma, const Tensor& eps) {
  Tensor z = mu + sigma * eps;
  Tensor terms = (ops::square(mu) + ops::square(sigma)) * 0.5 - ops::log(sigma) - 0.5;
  return {z, ops::mean(ops::sum(terms, {1}))};
}

void BM_gaussian_kl(benchmark::State& st, Device d, Shape s, bool fused) {
  if (!have_device(st, d)) return;
  Generator gen(2);
  Tensor mu = randn(s, gen, DType::f32, d).set_requires_grad(true);
  Tensor sigma = rand_uniform(s, 0.3, 2.0, gen, DType::f32, d).set_requires_grad(true);
  const Tensor eps = randn(s, gen, DType::f32, d), r = randn(s, gen, DType::f32, d);
  for (auto _ : st) {
    ops::GaussianSampleKl out = fused ? ops::gaussian_sample_kl(mu, sigma, eps) : gaussian_unfused(mu, sigma, eps);
    (ops::sum(out.z * r) + out.kl).backward();
    sync(d);
    mu.zero_grad();
    sigma.zero_grad();
  }
  st.SetBytesProcessed(shape_numel(s) * 4 * 10 * int64_t(st.iterations()));
}

}  // namespace

BENCHMARK_CAPTURE(BM_pixel_l2, fused_cuda, Device::cuda(), true)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_pixel_l2, unfused_cuda, Device::cuda(), false)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_pixel_l2, fused_cpu, Device::cpu(), true)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_pixel_l2, unfused_cpu, Device::cpu(), false)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_gaussian_kl, fused_cuda_8x256, Device::cuda(), Shape{8, 256}, true)->UseRealTime();
BENCHMARK_CAPTURE(BM_gaussian_kl, unfused_cuda_8x256, Device::cuda(), Shape{8, 256}, false)->UseRealTime();
BENCHMARK_CAPTURE(BM_gaussian_kl, fused_cuda_256x4096, Device::cuda(), Shape{256, 4096}, true)->UseRealTime();
BENCHMARK_CAPTURE(BM_gaussian_kl, unfused_cuda_256x4096, Device::cuda(), Shape{256, 4096}, false)->UseRealTime();
BENCHMARK_CAPTURE(BM_gaussian_kl, fused_cpu_8x256, Device::cpu(), Shape{8, 256}, true)->UseRealTime();
BENCHMARK_CAPTURE(BM_gaussian_kl, unfused_cpu_8x256, Device::cpu(), Shape{8, 256}, false)->UseRealTime();
BENCHMARK_CAPTURE(BM_gaussian_kl, fused_cpu_256x4096, Device::cpu(), Shape{256, 4096}, true)->UseRealTime();
BENCHMARK_CAPTURE(BM_gaussian_kl, unfused_cpu_256x4096, Device::cpu(), Shape{256, 4096}, false)->UseRealTime();
