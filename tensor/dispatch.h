#pragma once
// Helpers for tensor/ops: device dispatch and argument checks with clear messages.
#include "kernels/device.h"
#include "tensor/tensor.h"

// Wrap CUDA kernel calls so that a CPU-only build still compiles the dispatch code.
#ifdef SAKUGA_WITH_CUDA
#define SAKUGA_CUDA_ONLY(...) __VA_ARGS__
#else
#define SAKUGA_CUDA_ONLY(...) SAKUGA_FAIL("a CUDA tensor reached a build without CUDA")
#endif

namespace sakuga {

// The stream that work on t's device is queued on.
inline Stream stream_of(const Tensor& t) {
  return t.is_cuda() ? device::stream(t.device().index) : nullptr;
}

// Calls f(T{}) with T = float or double (CPU reference dtypes); bf16 is rejected with a
// message naming the op.
template <class F>
void dispatch_cpu_float(const char* op, DType dt, F&& f) {
  switch (dt) {
    case DType::f32: f(float{}); return;
    case DType::f64: f(double{}); return;
    default: SAKUGA_FAIL(op, ": CPU supports f32 and f64, got ", dtype_name(dt));
  }
}

// Element-by-element copy between two views of the same shape/dtype/device (no autograd).
void strided_copy(const Tensor& src, const Tensor& dst);

void check_defined(const char* op, const Tensor& t, const char* arg);
void check_same_device(const char* op, const Tensor& a, const Tensor& b);
void check_same_dtype(const char* op, const Tensor& a, const Tensor& b);
void check_float(const char* op, const Tensor& t, const char* arg);
void check_dim(const char* op, const Tensor& t, int64_t dim, const char* arg);
// t is defined and on ref's device with ref's dtype.
void check_like(const char* op, const Tensor& ref, const Tensor& t, const char* arg);
// t is used as a constant (weights, noise, masks): an error if a gradient toward it is wanted.
void check_constant(const char* op, const Tensor& t, const char* arg);
// Normalise a possibly negative dim for a tensor of rank `ndim`.
int64_t wrap_dim(const char* op, int64_t dim, int64_t ndim);

}  // namespace sakuga
