// CUDA elementwise family: grid-stride loops over the scalar math shared with the CPU
// reference (kernels/elementwise.h). bf16 storage computes in f32.
#include <type_traits>

#include "kernels/cuda/check.cuh"
#include "kernels/elementwise.h"

namespace sakuga::kernels::cuda {

using sakuga::cuda::grid_for;
using sakuga::cuda::load;
using sakuga::cuda::store;

namespace {

template <UnaryOp O, class T>
__global__ void unary_fwd_kernel(const T* x, T* y, int64_t n, float a, float b) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    store(y, i, unary_fwd<O>(load(x, i), a, b));
}

template <UnaryOp O, class T>
__global__ void unary_bwd_kernel(const T* x, const T* y, const T* gy, T* gx, int64_t n, float a, float b) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    float xv = x ? load(x, i) : 0.f, yv = y ? load(y, i) : 0.f;
    store(gx, i, unary_bwd<O>(xv, yv, load(gy, i), a, b));
  }
}

template <BinaryOp O, class T>
__global__ void binary_kernel(const T* a, const T* b, T* out, Broadcast bc, int64_t n, bool flat) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    if (flat) {  // same shapes: no index arithmetic
      store(out, i, binary_fwd<O>(load(a, i), load(b, i)));
      continue;
    }
    int64_t rem = i, ia = 0, ib = 0;
    for (int d = bc.ndim - 1; d >= 0; --d) {
      int64_t idx = rem % bc.out_shape[d];
      rem /= bc.out_shape[d];
      ia += idx * bc.a_strides[d];
      ib += idx * bc.b_strides[d];
    }
    store(out, i, binary_fwd<O>(load(a, ia), load(b, ib)));
  }
}

// One thread per output element sums its reduced indices in a fixed order: deterministic,
// no atomics. Broadcast gradients are small reductions (biases, scalars) in this project.
template <class T>
__global__ void sum_to_kernel(const T* in, T* out, SumTo g, int64_t n_out, int64_t n_red) {
  int64_t in_strides[kMaxDims];
  int64_t acc = 1;
  for (int d = g.ndim - 1; d >= 0; --d) {
    in_strides[d] = acc;
    acc *= g.in_shape[d];
  }
  for (int64_t j = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; j < n_out; j += int64_t(gridDim.x) * blockDim.x) {
    int64_t base = 0, rem = j;
    for (int d = g.ndim - 1; d >= 0; --d) {
      int64_t idx = rem % g.out_shape[d];
      rem /= g.out_shape[d];
      base += idx * in_strides[d];
    }
    float s = 0.f;
    for (int64_t r = 0; r < n_red; ++r) {
      int64_t off = 0, rr = r;
      for (int d = g.ndim - 1; d >= 0; --d) {
        if (g.out_shape[d] != 1) continue;
        int64_t idx = rr % g.in_shape[d];
        rr /= g.in_shape[d];
        off += idx * in_strides[d];
      }
      s += load(in, base + off);
    }
    store(out, j, s);
  }
}

template <class Body>
void with_unary(UnaryOp op, Body&& body) {
#define SAKUGA_UNARY_CASE(name) \
  case UnaryOp::name: body(std::integral_constant<UnaryOp, UnaryOp::name>{}); return;
  switch (op) {
    SAKUGA_UNARY_CASE(neg) SAKUGA_UNARY_CASE(exp) SAKUGA_UNARY_CASE(log) SAKUGA_UNARY_CASE(sqrt)
    SAKUGA_UNARY_CASE(abs) SAKUGA_UNARY_CASE(relu) SAKUGA_UNARY_CASE(sigmoid) SAKUGA_UNARY_CASE(tanh)
    SAKUGA_UNARY_CASE(softplus) SAKUGA_UNARY_CASE(leaky_relu) SAKUGA_UNARY_CASE(pow)
    SAKUGA_UNARY_CASE(clamp) SAKUGA_UNARY_CASE(add_scalar) SAKUGA_UNARY_CASE(mul_scalar)
    SAKUGA_UNARY_CASE(square)
  }
#undef SAKUGA_UNARY_CASE
}

}  // namespace

void unary_forward(UnaryOp op, DType dtype, const void* x, void* y, int64_t n, double a, double b, Stream s) {
  if (n == 0) return;
  sakuga::cuda::dispatch_float_bf16("unary_forward", dtype, [&](auto t) {
    using T = decltype(t);
    with_unary(op, [&](auto tag) {
      unary_fwd_kernel<decltype(tag)::value, T><<<grid_for(n), 256, 0, s>>>(
          static_cast<const T*>(x), static_cast<T*>(y), n, float(a), float(b));
    });
  });
  SAKUGA_LAUNCH_CHECK();
}

void unary_backward(UnaryOp op, DType dtype, const void* x, const void* y, const void* gy, void* gx,
                    int64_t n, double a, double b, Stream s) {
  if (n == 0) return;
  sakuga::cuda::dispatch_float_bf16("unary_backward", dtype, [&](auto t) {
    using T = decltype(t);
    with_unary(op, [&](auto tag) {
      unary_bwd_kernel<decltype(tag)::value, T><<<grid_for(n), 256, 0, s>>>(
          static_cast<const T*>(x), static_cast<const T*>(y), static_cast<const T*>(gy),
          static_cast<T*>(gx), n, float(a), float(b));
    });
  });
  SAKUGA_LAUNCH_CHECK();
}

void binary_forward(BinaryOp op, DType dtype, const void* a, const void* b, void* out,
                    const Broadcast& bc, Stream s) {
  int64_t n = bc.numel();
  if (n == 0) return;
  sakuga::cuda::dispatch_float_bf16("binary_forward", dtype, [&](auto t) {
    using T = decltype(t);
    auto pa = static_cast<const T*>(a);
    auto pb = static_cast<const T*>(b);
    auto po = static_cast<T*>(out);
    const bool flat = bc.same_layout();
    switch (op) {
      case BinaryOp::add: binary_kernel<BinaryOp::add><<<grid_for(n), 256, 0, s>>>(pa, pb, po, bc, n, flat); break;
      case BinaryOp::sub: binary_kernel<BinaryOp::sub><<<grid_for(n), 256, 0, s>>>(pa, pb, po, bc, n, flat); break;
      case BinaryOp::mul: binary_kernel<BinaryOp::mul><<<grid_for(n), 256, 0, s>>>(pa, pb, po, bc, n, flat); break;
      case BinaryOp::div: binary_kernel<BinaryOp::div><<<grid_for(n), 256, 0, s>>>(pa, pb, po, bc, n, flat); break;
    }
  });
  SAKUGA_LAUNCH_CHECK();
}

void sum_to(DType dtype, const void* in, void* out, const SumTo& g, Stream s) {
  int64_t n_out = 1, n_red = 1;
  for (int d = 0; d < g.ndim; ++d) {
    n_out *= g.out_shape[d];
    n_red *= g.out_shape[d] == 1 ? g.in_shape[d] : 1;
  }
  if (n_out == 0) return;
  sakuga::cuda::dispatch_float_bf16("sum_to", dtype, [&](auto t) {
    using T = decltype(t);
    sum_to_kernel<T><<<grid_for(n_out), 256, 0, s>>>(static_cast<const T*>(in), static_cast<T*>(out), g,
                                                     n_out, n_red);
  });
  SAKUGA_LAUNCH_CHECK();
}

}  // namespace sakuga::kernels::cuda
