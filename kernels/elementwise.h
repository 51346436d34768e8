#pragma once
// Elementwise family: unary maps (with their derivatives), broadcasting binary ops, and the
// broadcast-reduction sum_to that their backward needs. The scalar math below is shared by
// the CPU reference and the CUDA kernels, so both compute the same formula.
#include <cmath>

#include "kernels/common.h"
#include "kernels/copy.h"

namespace sakuga::kernels {

enum class UnaryOp : int {
  neg, exp, log, sqrt, abs, relu, sigmoid, tanh, softplus, leaky_relu, pow, clamp,
  add_scalar, mul_scalar, square,
};

// y = f(x; a, b)  — a, b are op parameters (slope, exponent, bounds, scalar).
template <UnaryOp op, class T>
SAKUGA_HD T unary_fwd(T x, T a, T b) {
  using std::exp; using std::log; using std::sqrt; using std::fabs; using std::tanh; using std::pow;
  using std::log1p;
  if constexpr (op == UnaryOp::neg) return -x;
  if constexpr (op == UnaryOp::exp) return exp(x);
  if constexpr (op == UnaryOp::log) return log(x);
  if constexpr (op == UnaryOp::sqrt) return sqrt(x);
  if constexpr (op == UnaryOp::abs) return fabs(x);
  if constexpr (op == UnaryOp::relu) return x > T(0) ? x : T(0);
  if constexpr (op == UnaryOp::sigmoid) return T(1) / (T(1) + exp(-x));
  if constexpr (op == UnaryOp::tanh) return tanh(x);
  // softplus(x) = log(1 + e^{βx}) / β, linear above the threshold (PyTorch's definition).
  if constexpr (op == UnaryOp::softplus) return a * x > b ? x : log1p(exp(a * x)) / a;
  if constexpr (op == UnaryOp::leaky_relu) return x > T(0) ? x : a * x;
  if constexpr (op == UnaryOp::pow) return pow(x, a);
  if constexpr (op == UnaryOp::clamp) return x < a ? a : (x > b ? b : x);
  if constexpr (op == UnaryOp::add_scalar) return x + a;
  if constexpr (op == UnaryOp::mul_scalar) return x * a;
  if constexpr (op == UnaryOp::square) return x * x;
  return x;
}

// dL/dx given x, y = f(x) and gy = dL/dy.
template <UnaryOp op, class T>
SAKUGA_HD T unary_bwd(T x, T y, T gy, T a, T b) {
  using std::exp; using std::pow;
  if constexpr (op == UnaryOp::neg) return -gy;
  if constexpr (op == UnaryOp::exp) return gy * y;
  if constexpr (op == UnaryOp::log) return gy / x;
  if constexpr (op == UnaryOp::sqrt) return gy / (T(2) * y);
  if constexpr (op == UnaryOp::abs) return x > T(0) ? gy : (x < T(0) ? -gy : T(0));
  if constexpr (op == UnaryOp::relu) return x > T(0) ? gy : T(0);
  if constexpr (op == UnaryOp::sigmoid) return gy * y * (T(1) - y);
  if constexpr (op == UnaryOp::tanh) return gy * (T(1) - y * y);
  if constexpr (op == UnaryOp::softplus) return a * x > b ? gy : gy / (T(1) + exp(-a * x));
  if constexpr (op == UnaryOp::leaky_relu) return x > T(0) ? gy : a * gy;
  if constexpr (op == UnaryOp::pow) return gy * a * pow(x, a - T(1));
  if constexpr (op == UnaryOp::clamp) return (x < a || x > b) ? T(0) : gy;
  if constexpr (op == UnaryOp::add_scalar) return gy;
  if constexpr (op == UnaryOp::mul_scalar) return gy * a;
  if constexpr (op == UnaryOp::square) return gy * T(2) * x;
  return gy;
}

enum class BinaryOp : int { add, sub, mul, div };

template <BinaryOp op, class T>
SAKUGA_HD T binary_fwd(T a, T b) {
  if constexpr (op == BinaryOp::add) return a + b;
  if constexpr (op == BinaryOp::sub) return a - b;
  if constexpr (op == BinaryOp::mul) return a * b;
  if constexpr (op == BinaryOp::div) return a / b;
  return a;
}

// Broadcast geometry: out has `ndim` dims; a and b are read with element strides that are 0
// along broadcast dims. Built by tensor/ops from the two input shapes.
struct Broadcast {
  int ndim = 0;
  int64_t out_shape[kMaxDims] = {};
  int64_t a_strides[kMaxDims] = {};
  int64_t b_strides[kMaxDims] = {};
  // True when a and b are both read contiguously with out's layout (same shape): a flat loop.
  bool same_layout() const {
    int64_t expect = 1;
    for (int d = ndim - 1; d >= 0; --d) {
      if (out_shape[d] != 1 && (a_strides[d] != expect || b_strides[d] != expect)) return false;
      expect *= out_shape[d];
    }
    return true;
  }
  int64_t numel() const {
    int64_t n = 1;
    for (int d = 0; d < ndim; ++d) n *= out_shape[d];
    return n;
  }
};

// Reduction of `in` (shape in_shape, ndim dims) onto out_shape (same ndim, each dim either
// equal or 1): out[j] = Σ in[i] over the i that broadcast to j. Fixed summation order.
struct SumTo {
  int ndim = 0;
  int64_t in_shape[kMaxDims] = {};
  int64_t out_shape[kMaxDims] = {};
};

namespace cpu {
template <class T>
void unary_forward(UnaryOp op, const T* x, T* y, int64_t n, double a, double b);
template <class T>
void unary_backward(UnaryOp op, const T* x, const T* y, const T* gy, T* gx, int64_t n, double a, double b);
template <class T>
void binary_forward(BinaryOp op, const T* a, const T* b, T* out, const Broadcast& bc);
template <class T>
void sum_to(const T* in, T* out, const SumTo& geom);
}  // namespace cpu

namespace cuda {
// dtype: f32 or bf16 (math in f32).
void unary_forward(UnaryOp op, DType dtype, const void* x, void* y, int64_t n, double a, double b, Stream s);
void unary_backward(UnaryOp op, DType dtype, const void* x, const void* y, const void* gy, void* gx,
                    int64_t n, double a, double b, Stream s);
void binary_forward(BinaryOp op, DType dtype, const void* a, const void* b, void* out,
                    const Broadcast& bc, Stream s);
void sum_to(DType dtype, const void* in, void* out, const SumTo& geom, Stream s);
}  // namespace cuda

}  // namespace sakuga::kernels
