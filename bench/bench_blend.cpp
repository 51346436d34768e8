// Redraw post-processing benchmarks on a 1080p frame (1920×1080, 3 channels): the Poisson blend
// (CPU: conjugate gradient; CUDA: red-black SOR) for two eye-sized ellipses of 200×120 px and
// for one large 600×400 ellipse, and the Lab colour transfer of the two eyes (CPU only).
// Counters: unknowns (mask pixels) and iterations (the most any channel needed).
//   build/bench/sakuga_bench --benchmark_filter=blend
#include <benchmark/benchmark.h>

#include <cmath>
#include <vector>

#include "data/redraw/blend.h"
#include "kernels/device.h"
#include "kernels/philox.h"

using namespace sakuga;

namespace {

constexpr int64_t kH = 1080, kW = 1920;

struct Ellipse {
  double cy, cx, ry, rx;
};

Tensor ellipse_mask(const std::vector<Ellipse>& es) {
  std::vector<uint8_t> m(size_t(kH * kW), 0);
  for (int64_t y = 0; y < kH; ++y)
    for (int64_t x = 0; x < kW; ++x)
      for (const Ellipse& e : es) {
        const double dy = (double(y) - e.cy) / e.ry, dx = (double(x) - e.cx) / e.rx;
        if (dy * dy + dx * dx < 1) m[size_t(y * kW + x)] = 1;
      }
  return Tensor::from_bytes(m.data(), {kH, kW}, DType::u8);
}

// Smooth colour fields with a little noise: a frame and a differently coloured patch.
Tensor test_image(double phase, double level) {
  std::vector<float> v(size_t(3 * kH * kW));
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t y = 0; y < kH; ++y)
      for (int64_t x = 0; x < kW; ++x) {
        const size_t i = size_t((c * kH + y) * kW + x);
        const double noise = double(philox::word(uint64_t(c) + 17, i) % 1000u) / 1000.0 - 0.5;
        v[i] = float(level + 0.2 * std::sin(0.004 * double(x) + 0.007 * double(y) + phase + double(c)) + 0.04 * noise);
      }
  return Tensor::from_vector(v, {3, kH, kW});
}

const std::vector<Ellipse> kEyes = {{500, 760, 60, 100}, {500, 1160, 60, 100}};  // two 200×120
const std::vector<Ellipse> kLarge = {{540, 960, 200, 300}};                     // 600×400

void BM_poisson_blend_1080p(benchmark::State& st, Device d, const std::vector<Ellipse>* es) {
  if (d.is_cuda() && device::cuda_device_count() == 0) {
    st.SkipWithError("no CUDA device");
    return;
  }
  const Tensor frame = test_image(0, 0.4).to(d), patch = test_image(1.3, 0.6).to(d), mask = ellipse_mask(*es).to(d);
  kernels::PoissonStats stats;
  for (auto _ : st) {
    const auto res = data::redraw::poisson_blend(frame, patch, mask);
    if (d.is_cuda()) device::synchronize(d.index);
    stats = res.stats;
  }
  st.counters["unknowns"] = double(stats.unknowns);
  st.counters["iterations"] = double(stats.iterations);
  if (!stats.converged) st.SkipWithError("did not converge");
}

void BM_color_transfer_1080p_eyes(benchmark::State& st) {
  const Tensor frame = test_image(0, 0.4), patch = test_image(1.3, 0.6), mask = ellipse_mask(kEyes);
  for (auto _ : st) benchmark::DoNotOptimize(data::redraw::color_transfer(frame, patch, mask));
}

}  // namespace

BENCHMARK_CAPTURE(BM_poisson_blend_1080p, cpu_two_eyes_200x120, Device::cpu(), &kEyes)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);
BENCHMARK_CAPTURE(BM_poisson_blend_1080p, cpu_large_600x400, Device::cpu(), &kLarge)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);
BENCHMARK_CAPTURE(BM_poisson_blend_1080p, cuda_two_eyes_200x120, Device::cuda(0), &kEyes)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(5);
BENCHMARK_CAPTURE(BM_poisson_blend_1080p, cuda_large_600x400, Device::cuda(0), &kLarge)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);
BENCHMARK(BM_color_transfer_1080p_eyes)->UseRealTime()->Unit(benchmark::kMillisecond)->Iterations(3);
