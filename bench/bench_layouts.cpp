// Benchmarks of the kernels reshaped to fill the GPU: the conv bias gradient at the GCN head
// shape (10 channels of 4×1080×1920), batch norm training forward + backward at ResNet-50
// shapes on 1080p frames (few channels of many pixels, and many channels of few), the
// broadcast-reduction sum_to, and elementwise ops on contiguous operands, a broadcast scalar
// and a channel broadcast. bytes_per_second counts the memory traffic of the kernels (for the
// single-pass ones: each input read once, each output written once); compare it with the
// memory roofline (H200 ≈ 4.8 TB/s). The CPU
// variants run at small shapes so the binary stays quick without a GPU; CUDA variants report
// an error ("no CUDA device") when none answers.
#include <benchmark/benchmark.h>

#include "kernels/conv.h"
#include "kernels/device.h"
#include "tensor/dispatch.h"
#include "tensor/ops/elementwise.h"
#include "tensor/ops/norm.h"
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

// The GCN douga head's logits at thesis scale on CUDA, a small map on the CPU.
Shape head_shape(Device d) { return d.is_cuda() ? Shape{4, 10, 1080, 1920} : Shape{2, 10, 96, 128}; }

// d(loss)/d(bias) of a conv whose output gradient is gy: the kernel alone.
void BM_conv_bias_grad(benchmark::State& st, Device d) {
  if (!have_device(st, d)) return;
  const Shape s = head_shape(d);
  Generator gen(1);
  Tensor gy = randn(s, gen, DType::f32, d);
  Tensor gb = Tensor::empty({s[1]}, DType::f32, d);
  const int64_t n = s[0], c = s[1], hw = s[2] * s[3];
  for (auto _ : st) {
    if (d.is_cuda()) {
      SAKUGA_CUDA_ONLY(kernels::cuda::bias_grad(DType::f32, gy.raw(), gb.raw(), n, c, hw, stream_of(gy)));
    } else {
      kernels::cpu::bias_grad<float>(gy.data<float>(), gb.data<float>(), n, c, hw);
    }
    sync(d);
  }
  st.SetBytesProcessed(int64_t(gy.nbytes()) * int64_t(st.iterations()));
}

// Batch norm (training: batch statistics, running buffers updated) forward + backward.
void BM_batch_norm_fwd_bwd(benchmark::State& st, Device d, Shape s) {
  if (!have_device(st, d)) return;
  Generator gen(2);
  const int64_t c = s[1];
  Tensor x = randn(s, gen, DType::f32, d).set_requires_grad(true);
  Tensor w = rand_uniform({c}, 0.5, 1.5, gen, DType::f32, d).set_requires_grad(true);
  Tensor b = randn({c}, gen, DType::f32, d).set_requires_grad(true);
  Tensor rm = Tensor::zeros({c}, DType::f32, d), rv = Tensor::ones({c}, DType::f32, d);
  Tensor gy = randn(s, gen, DType::f32, d);
  for (auto _ : st) {
    Tensor y = ops::batch_norm(x, w, b, rm, rv, true, 0.1, 1e-5);
    y.backward(gy);
    sync(d);
    x.zero_grad();
    w.zero_grad();
    b.zero_grad();
  }
  // The traffic of these kernels: the forward reads x three times (two statistics passes and
  // the normalisation) and writes y; the backward reads dy and x for the sums and again for dx
  // and writes dx. 9 passes of x's size (the per-channel vectors are negligible).
  st.SetBytesProcessed(int64_t(x.nbytes()) * 9 * int64_t(st.iterations()));
}

// sum_to of a (N, C, H, W) gradient onto (1, C, 1, 1): a broadcast bias's backward.
void BM_sum_to_channels(benchmark::State& st, Device d) {
  if (!have_device(st, d)) return;
  const Shape s = head_shape(d);
  Generator gen(3);
  Tensor g = randn(s, gen, DType::f32, d);
  for (auto _ : st) {
    Tensor r = ops::sum_to(g, {1, s[1], 1, 1});
    sync(d);
  }
  st.SetBytesProcessed(int64_t(g.nbytes()) * int64_t(st.iterations()));
}

enum class Operand { same, scalar, channel };

// a ∘ b with b of a's shape (contiguous, vector packs), a scalar, or one value per channel
// (merged to (N, C, H·W) broadcast indexing, 32-bit).
void BM_mul(benchmark::State& st, Device d, Operand kind) {
  if (!have_device(st, d)) return;
  const Shape s = head_shape(d);
  const Shape sb = kind == Operand::same ? s : kind == Operand::scalar ? Shape{} : Shape{1, s[1], 1, 1};
  Generator gen(4);
  Tensor a = randn(s, gen, DType::f32, d), b = randn(sb, gen, DType::f32, d);
  for (auto _ : st) {
    Tensor y = ops::mul(a, b);
    sync(d);
  }
  const int64_t bytes = int64_t(a.nbytes()) * (kind == Operand::same ? 3 : 2);
  st.SetBytesProcessed(bytes * int64_t(st.iterations()));
}

void BM_relu(benchmark::State& st, Device d) {
  if (!have_device(st, d)) return;
  Generator gen(5);
  Tensor x = randn(head_shape(d), gen, DType::f32, d);
  for (auto _ : st) {
    Tensor y = ops::relu(x);
    sync(d);
  }
  st.SetBytesProcessed(int64_t(x.nbytes()) * 2 * int64_t(st.iterations()));
}

}  // namespace

#define SAKUGA_BENCH_BOTH(fn)                                                                \
  BENCHMARK_CAPTURE(fn, cuda, Device::cuda())->UseRealTime()->Unit(benchmark::kMillisecond); \
  BENCHMARK_CAPTURE(fn, cpu, Device::cpu())->UseRealTime()->Unit(benchmark::kMillisecond)

SAKUGA_BENCH_BOTH(BM_conv_bias_grad);
SAKUGA_BENCH_BOTH(BM_sum_to_channels);
SAKUGA_BENCH_BOTH(BM_relu);
BENCHMARK_CAPTURE(BM_mul, same_cuda, Device::cuda(), Operand::same)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_mul, scalar_cuda, Device::cuda(), Operand::scalar)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_mul, channel_cuda, Device::cuda(), Operand::channel)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_mul, same_cpu, Device::cpu(), Operand::same)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_mul, channel_cpu, Device::cpu(), Operand::channel)->UseRealTime()->Unit(benchmark::kMillisecond);
// ResNet-50 on a 1080p frame, batch 4: the stem's BN (64 channels of 540×960) and layer4's
// (2048 channels of 34×60); the CPU runs a 1/16-area version of the first.
BENCHMARK_CAPTURE(BM_batch_norm_fwd_bwd, stem_cuda, Device::cuda(), Shape{4, 64, 540, 960})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_batch_norm_fwd_bwd, layer4_cuda, Device::cuda(), Shape{4, 2048, 34, 60})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_batch_norm_fwd_bwd, stem_cpu, Device::cpu(), Shape{1, 64, 135, 240})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
