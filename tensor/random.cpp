// Random tensors: reserve numel counters from the generator, fill on the tensor's device.
#include "tensor/random.h"

#include "kernels/random.h"
#include "tensor/dispatch.h"

namespace sakuga {

Generator& default_generator() {
  static Generator gen(0);
  return gen;
}

void manual_seed(uint64_t seed) {
  Generator& g = default_generator();
  g.seed = seed;
  g.offset = 0;
}

namespace {

enum class Dist { normal, uniform };

// Fill the contiguous tensor t with n values from counters [offset, offset + n).
void fill_contiguous(const Tensor& t, Dist dist, double a, double b, uint64_t seed, uint64_t offset,
                     const char* op) {
  const int64_t n = t.numel();
  if (n == 0) return;
  if (t.is_cuda()) {
    if (dist == Dist::normal) {
      SAKUGA_CUDA_ONLY(kernels::cuda::fill_normal(t.dtype(), t.raw(), n, seed, offset, a, b, stream_of(t)));
    } else {
      SAKUGA_CUDA_ONLY(kernels::cuda::fill_uniform(t.dtype(), t.raw(), n, seed, offset, a, b, stream_of(t)));
    }
    return;
  }
  if (t.dtype() == DType::bf16) {
    // No bf16 arithmetic on the CPU: draw in f32 (what the GPU computes too), then round.
    Tensor f = Tensor::empty(t.shape(), DType::f32, t.device());
    fill_contiguous(f, dist, a, b, seed, offset, op);
    t.copy_(f);
    return;
  }
  dispatch_cpu_float(op, t.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if (dist == Dist::normal)
      kernels::cpu::fill_normal<T>(t.data<T>(), n, seed, offset, a, b);
    else
      kernels::cpu::fill_uniform<T>(t.data<T>(), n, seed, offset, a, b);
  });
}

void fill(const Tensor& t, Dist dist, double a, double b, Generator& gen, const char* op) {
  check_defined(op, t, "tensor");
  SAKUGA_CHECK(dtype_is_float(t.dtype()), op, ": needs a float tensor (f32, f64, bf16), got ",
               dtype_name(t.dtype()));
  const uint64_t offset = gen.reserve(uint64_t(t.numel()));
  if (t.is_contiguous()) {
    fill_contiguous(t, dist, a, b, gen.seed, offset, op);
  } else {
    // Element i in row-major order of the view takes counter offset + i.
    Tensor tmp = Tensor::empty(t.shape(), t.dtype(), t.device());
    fill_contiguous(tmp, dist, a, b, gen.seed, offset, op);
    t.copy_(tmp);
  }
}

}  // namespace

Tensor randn(const Shape& shape, Generator& gen, DType dtype, Device device, double mean, double std) {
  SAKUGA_CHECK(std >= 0, "randn: std must be >= 0, got ", std);
  Tensor t = Tensor::empty(shape, dtype, device);
  fill(t, Dist::normal, mean, std, gen, "randn");
  return t;
}

Tensor rand_uniform(const Shape& shape, double lo, double hi, Generator& gen, DType dtype, Device device) {
  SAKUGA_CHECK(lo <= hi, "rand_uniform: lo ", lo, " > hi ", hi);
  Tensor t = Tensor::empty(shape, dtype, device);
  fill(t, Dist::uniform, lo, hi, gen, "rand_uniform");
  return t;
}

void normal_(const Tensor& t, double mean, double std, Generator& gen) {
  SAKUGA_CHECK(std >= 0, "normal_: std must be >= 0, got ", std);
  fill(t, Dist::normal, mean, std, gen, "normal_");
}

void uniform_(const Tensor& t, double lo, double hi, Generator& gen) {
  SAKUGA_CHECK(lo <= hi, "uniform_: lo ", lo, " > hi ", hi);
  fill(t, Dist::uniform, lo, hi, gen, "uniform_");
}

}  // namespace sakuga
