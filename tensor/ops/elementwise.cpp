// Elementwise ops: checks, device dispatch, and the backward recorded on the tape.
#include "tensor/ops/elementwise.h"

#include "kernels/elementwise.h"
#include "tensor/autograd.h"
#include "tensor/dispatch.h"
#include "tensor/ops/view.h"

namespace sakuga::ops {

using kernels::BinaryOp;
using kernels::UnaryOp;

namespace {

// y = f(x) on x's device. x must be contiguous.
Tensor unary_kernel(UnaryOp op, const char* name, const Tensor& x, double a, double b) {
  check_defined(name, x, "x");
  check_float(name, x, "x");
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (x.is_cuda()) {
    SAKUGA_CUDA_ONLY(kernels::cuda::unary_forward(op, x.dtype(), x.raw(), out.raw(), x.numel(), a, b, stream_of(x)));
  } else {
    dispatch_cpu_float(name, x.dtype(), [&](auto t) {
      using T = decltype(t);
      kernels::cpu::unary_forward<T>(op, x.data<T>(), out.data<T>(), x.numel(), a, b);
    });
  }
  return out;
}

// dL/dx from x and/or y (whichever the derivative needs; the other may be undefined).
Tensor unary_grad(UnaryOp op, const char* name, const Tensor& x, const Tensor& y, const Tensor& gy,
                  double a, double b) {
  Tensor g = gy.contiguous();
  Tensor gx = Tensor::empty(g.shape(), g.dtype(), g.device());
  if (g.is_cuda()) {
    SAKUGA_CUDA_ONLY(kernels::cuda::unary_backward(op, g.dtype(), x.defined() ? x.raw() : nullptr,
                                                   y.defined() ? y.raw() : nullptr, g.raw(), gx.raw(),
                                                   g.numel(), a, b, stream_of(g)));
  } else {
    dispatch_cpu_float(name, g.dtype(), [&](auto t) {
      using T = decltype(t);
      kernels::cpu::unary_backward<T>(op, x.defined() ? x.data<T>() : nullptr,
                                      y.defined() ? y.data<T>() : nullptr, g.data<T>(), gx.data<T>(),
                                      g.numel(), a, b);
    });
  }
  return gx;
}

// Which of x / y the derivative of `op` reads (saving only what is needed frees memory early).
enum class Saves { none, x, y };
Saves saves(UnaryOp op) {
  switch (op) {
    case UnaryOp::exp: case UnaryOp::sqrt: case UnaryOp::sigmoid: case UnaryOp::tanh: return Saves::y;
    case UnaryOp::neg: case UnaryOp::add_scalar: case UnaryOp::mul_scalar: return Saves::none;
    default: return Saves::x;
  }
}

Tensor unary(UnaryOp op, const char* name, const Tensor& x_in, double a = 0, double b = 0) {
  Tensor x = x_in.contiguous();
  Tensor y = unary_kernel(op, name, x, a, b);
  Saves s = saves(op);
  Tensor sx = s == Saves::x ? x.detach() : Tensor();
  Tensor sy = s == Saves::y ? y.detach() : Tensor();
  return record(name, y, {x}, [=](const Tensor& gy, const Needs&) -> Grads {
    return {unary_grad(op, name, sx, sy, gy, a, b)};
  });
}

Tensor binary_kernel(BinaryOp op, const char* name, const Tensor& a_in, const Tensor& b_in) {
  check_defined(name, a_in, "a");
  check_defined(name, b_in, "b");
  check_same_device(name, a_in, b_in);
  check_same_dtype(name, a_in, b_in);
  check_float(name, a_in, "a");
  Shape out_shape = broadcast_shapes(name, a_in.shape(), b_in.shape());
  SAKUGA_CHECK(out_shape.size() <= size_t(kernels::kMaxDims), name, ": rank > ", kernels::kMaxDims);
  Tensor a = a_in.contiguous(), b = b_in.contiguous();
  kernels::Broadcast bc;
  bc.ndim = int(out_shape.size());
  Shape sa = contiguous_strides(a.shape()), sb = contiguous_strides(b.shape());
  for (int d = 0; d < bc.ndim; ++d) {
    bc.out_shape[d] = out_shape[size_t(d)];
    int da = d - (bc.ndim - int(a.dim())), db = d - (bc.ndim - int(b.dim()));
    bc.a_strides[d] = (da >= 0 && a.shape()[size_t(da)] != 1) ? sa[size_t(da)] : 0;
    bc.b_strides[d] = (db >= 0 && b.shape()[size_t(db)] != 1) ? sb[size_t(db)] : 0;
  }
  Tensor out = Tensor::empty(out_shape, a.dtype(), a.device());
  if (a.is_cuda()) {
    SAKUGA_CUDA_ONLY(kernels::cuda::binary_forward(op, a.dtype(), a.raw(), b.raw(), out.raw(), bc, stream_of(a)));
  } else {
    dispatch_cpu_float(name, a.dtype(), [&](auto t) {
      using T = decltype(t);
      kernels::cpu::binary_forward<T>(op, a.data<T>(), b.data<T>(), out.data<T>(), bc);
    });
  }
  return out;
}

}  // namespace

Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b) {
  size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    SAKUGA_CHECK(da == db || da == 1 || db == 1, op, ": shapes ", shape_str(a), " and ", shape_str(b),
                 " do not broadcast");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

Tensor sum_to(const Tensor& x_in, const Shape& shape) {
  if (x_in.shape() == shape) return x_in;
  Shape full = broadcast_shapes("sum_to", x_in.shape(), shape);
  SAKUGA_CHECK(full == x_in.shape(), "sum_to: cannot reduce ", shape_str(x_in.shape()), " to ", shape_str(shape));
  Tensor x = x_in.contiguous();
  kernels::SumTo g;
  g.ndim = int(x.dim());
  for (int d = 0; d < g.ndim; ++d) {
    int ds = d - (g.ndim - int(shape.size()));
    g.in_shape[d] = x.shape()[size_t(d)];
    g.out_shape[d] = ds >= 0 ? shape[size_t(ds)] : 1;
  }
  Tensor out = Tensor::empty(shape, x.dtype(), x.device());
  if (x.is_cuda()) {
    SAKUGA_CUDA_ONLY(kernels::cuda::sum_to(x.dtype(), x.raw(), out.raw(), g, stream_of(x)));
  } else {
    dispatch_cpu_float("sum_to", x.dtype(), [&](auto t) {
      using T = decltype(t);
      kernels::cpu::sum_to<T>(x.data<T>(), out.data<T>(), g);
    });
  }
  Shape in_shape = x.shape();
  return record("sum_to", out, {x}, [in_shape](const Tensor& g, const Needs&) -> Grads {
    return {expand(g, in_shape)};
  });
}

Tensor add(const Tensor& a, const Tensor& b) {
  Tensor out = binary_kernel(BinaryOp::add, "add", a, b);
  Shape sa = a.shape(), sb = b.shape();
  return record("add", out, {a, b}, [sa, sb](const Tensor& g, const Needs& need) -> Grads {
    return {need[0] ? sum_to(g, sa) : Tensor(), need[1] ? sum_to(g, sb) : Tensor()};
  });
}

Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor out = binary_kernel(BinaryOp::sub, "sub", a, b);
  Shape sa = a.shape(), sb = b.shape();
  return record("sub", out, {a, b}, [sa, sb](const Tensor& g, const Needs& need) -> Grads {
    return {need[0] ? sum_to(g, sa) : Tensor(), need[1] ? sum_to(neg(g), sb) : Tensor()};
  });
}

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor out = binary_kernel(BinaryOp::mul, "mul", a, b);
  Tensor da = a.detach(), db = b.detach();
  return record("mul", out, {a, b}, [da, db](const Tensor& g, const Needs& need) -> Grads {
    return {need[0] ? sum_to(mul(g, db), da.shape()) : Tensor(),
            need[1] ? sum_to(mul(g, da), db.shape()) : Tensor()};
  });
}

Tensor div(const Tensor& a, const Tensor& b) {
  Tensor out = binary_kernel(BinaryOp::div, "div", a, b);
  Tensor da = a.detach(), db = b.detach();
  return record("div", out, {a, b}, [da, db](const Tensor& g, const Needs& need) -> Grads {
    Tensor ga, gb;
    if (need[0]) ga = sum_to(div(g, db), da.shape());
    if (need[1]) gb = sum_to(neg(div(mul(g, da), mul(db, db))), db.shape());  // −g·a/b²
    return {ga, gb};
  });
}

Tensor add(const Tensor& a, double s) { return unary(UnaryOp::add_scalar, "add_scalar", a, s); }
Tensor mul(const Tensor& a, double s) { return unary(UnaryOp::mul_scalar, "mul_scalar", a, s); }
Tensor neg(const Tensor& x) { return unary(UnaryOp::neg, "neg", x); }
Tensor exp(const Tensor& x) { return unary(UnaryOp::exp, "exp", x); }
Tensor log(const Tensor& x) { return unary(UnaryOp::log, "log", x); }
Tensor sqrt(const Tensor& x) { return unary(UnaryOp::sqrt, "sqrt", x); }
Tensor abs(const Tensor& x) { return unary(UnaryOp::abs, "abs", x); }
Tensor square(const Tensor& x) { return unary(UnaryOp::square, "square", x); }
Tensor pow(const Tensor& x, double e) { return unary(UnaryOp::pow, "pow", x, e); }
Tensor clamp(const Tensor& x, double lo, double hi) {
  SAKUGA_CHECK(lo <= hi, "clamp: lo ", lo, " > hi ", hi);
  return unary(UnaryOp::clamp, "clamp", x, lo, hi);
}
Tensor relu(const Tensor& x) { return unary(UnaryOp::relu, "relu", x); }
Tensor leaky_relu(const Tensor& x, double slope) { return unary(UnaryOp::leaky_relu, "leaky_relu", x, slope); }
Tensor sigmoid(const Tensor& x) { return unary(UnaryOp::sigmoid, "sigmoid", x); }
Tensor tanh(const Tensor& x) { return unary(UnaryOp::tanh, "tanh", x); }
Tensor softplus(const Tensor& x, double beta, double threshold) {
  SAKUGA_CHECK(beta > 0, "softplus: beta must be > 0, got ", beta);
  return unary(UnaryOp::softplus, "softplus", x, beta, threshold);
}

Tensor prelu(const Tensor& x, const Tensor& weight) {
  check_defined("prelu", weight, "weight");
  int64_t c = weight.numel();
  SAKUGA_CHECK(c == 1 || (x.dim() >= 2 && x.size(1) == c), "prelu: weight has ", c,
               " slopes but input ", shape_str(x.shape()), " has ", x.dim() >= 2 ? x.size(1) : 0, " channels");
  // prelu(x) = relu(x) − w·relu(−x); the composition gives both gradients.
  Shape wshape(size_t(std::max<int64_t>(x.dim(), 1)), 1);
  if (c > 1) wshape[1] = c;
  return sub(relu(x), mul(reshape(weight, wshape), relu(neg(x))));
}

}  // namespace sakuga::ops
