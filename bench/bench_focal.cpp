// Focal loss benchmarks (forward + backward of the fused op, and the fused kernel alone).
// bytes_per_second counts the minimal traffic of the fused pass: read logits + target, write
// dlogits + the per-item loss; compare it with the memory roofline (H100 SXM ≈ 3.3 TB/s).
// The op timing also includes the reduction, the backward's dlogits · g/count pass and the
// gradient accumulation, so it sits below the kernel's number.
//   softmax focal at the douga thesis shape (4, 10, 1080, 1920) on CUDA, (2, 10, 64, 96) on CPU;
//   binary focal at (4, 1, 1080, 1920) on CUDA, (2, 1, 128, 192) on CPU.
#include <benchmark/benchmark.h>

#include <vector>

#include "kernels/device.h"
#include "kernels/focal.h"
#include "tensor/dispatch.h"
#include "tensor/ops/focal.h"
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

Tensor labels(const Shape& s, int64_t classes, Device d) {
  std::vector<int32_t> v(size_t(shape_numel(s)));
  for (size_t k = 0; k < v.size(); ++k) v[k] = int32_t((k * 2654435761u >> 7) % uint64_t(classes));
  return Tensor::from_vector_i32(v, s).to(d);
}

Shape softmax_shape(Device d) { return d.is_cuda() ? Shape{4, 10, 1080, 1920} : Shape{2, 10, 64, 96}; }
Shape binary_shape(Device d) { return d.is_cuda() ? Shape{4, 1, 1080, 1920} : Shape{2, 1, 128, 192}; }

// logits + target read, dlogits + loss written (f32, i32 targets).
int64_t softmax_bytes(const Shape& s) {
  const int64_t items = shape_numel(s) / s[1];
  return shape_numel(s) * 4 * 2 + items * 4 * 2;
}
int64_t binary_bytes(const Shape& s) { return shape_numel(s) * 4 * 4; }

void BM_softmax_focal_fwd_bwd(benchmark::State& st, Device d) {
  if (!have_device(st, d)) return;
  const Shape s = softmax_shape(d);
  Generator gen(1);
  Tensor x = randn(s, gen, DType::f32, d).set_requires_grad(true);
  Tensor t = labels({s[0], s[2], s[3]}, s[1], d);
  Tensor w = rand_uniform({s[1]}, 0.5, 2.0, gen, DType::f32, d);
  for (auto _ : st) {
    Tensor loss = ops::softmax_focal_loss(x, t, 2.0, w);
    loss.backward();
    sync(d);
    x.zero_grad();
  }
  st.SetBytesProcessed(softmax_bytes(s) * int64_t(st.iterations()));
}

void BM_binary_focal_fwd_bwd(benchmark::State& st, Device d) {
  if (!have_device(st, d)) return;
  const Shape s = binary_shape(d);
  Generator gen(2);
  Tensor x = randn(s, gen, DType::f32, d).set_requires_grad(true);
  Tensor t = rand_uniform(s, 0.0, 1.0, gen, DType::f32, d);
  for (auto _ : st) {
    Tensor loss = ops::binary_focal_loss(x, t, 2.0, 0.25);
    loss.backward();
    sync(d);
    x.zero_grad();
  }
  st.SetBytesProcessed(binary_bytes(s) * int64_t(st.iterations()));
}

// The fused kernel alone (loss + dlogits + valid written), against the roofline.
void BM_softmax_focal_kernel(benchmark::State& st, Device d) {
  if (!have_device(st, d)) return;
  const Shape s = softmax_shape(d);
  const int64_t n = s[0], c = s[1], inner = s[2] * s[3];
  Generator gen(3);
  Tensor x = randn(s, gen, DType::f32, d);
  Tensor t = labels({n, s[2], s[3]}, c, d);
  Tensor loss = Tensor::empty({n * inner}, DType::f32, d), valid = Tensor::empty({n * inner}, DType::f32, d);
  Tensor dl = Tensor::empty(s, DType::f32, d);
  for (auto _ : st) {
    if (d.is_cuda()) {
      SAKUGA_CUDA_ONLY(kernels::cuda::softmax_focal_forward(DType::f32, x.raw(), t.data<int32_t>(), nullptr, n, c,
                                                            inner, 2.0, -100, loss.raw(), dl.raw(), valid.raw(),
                                                            nullptr, stream_of(x)));
    } else {
      kernels::cpu::softmax_focal_forward<float>(x.data<float>(), t.data<int32_t>(), nullptr, n, c, inner, 2.0, -100,
                                                 loss.data<float>(), dl.data<float>(), valid.data<float>());
    }
    sync(d);
  }
  st.SetBytesProcessed((softmax_bytes(s) + n * inner * 4) * int64_t(st.iterations()));
}

}  // namespace

BENCHMARK_CAPTURE(BM_softmax_focal_fwd_bwd, cuda, Device::cuda())->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_softmax_focal_fwd_bwd, cpu, Device::cpu())->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_softmax_focal_kernel, cuda, Device::cuda())->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_softmax_focal_kernel, cpu, Device::cpu())->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_binary_focal_fwd_bwd, cuda, Device::cuda())->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_binary_focal_fwd_bwd, cpu, Device::cpu())->UseRealTime()->Unit(benchmark::kMillisecond);
