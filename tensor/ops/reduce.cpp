// Reductions and the softmax family: checks, the (outer, n, inner) geometry, device dispatch
// and the backward recorded on the tape. The kernels are in kernels/{cpu,cuda}/reduce.*.
#include "tensor/ops/reduce.h"

#include <algorithm>
#include <limits>

#include "kernels/reduce.h"
#include "tensor/autograd.h"
#include "tensor/dispatch.h"
#include "tensor/ops/elementwise.h"
#include "tensor/ops/view.h"

namespace sakuga::ops {

using kernels::SoftmaxKind;

namespace {

// x viewed as (outer, n, inner) around dim d.
struct Geom {
  int64_t outer = 1, n = 1, inner = 1;
};

Geom geom_around(const Shape& s, int64_t d) {
  Geom g;
  if (s.empty()) return g;  // a 0-dim tensor is (1, 1, 1)
  for (int64_t k = 0; k < d; ++k) g.outer *= s[size_t(k)];
  g.n = s[size_t(d)];
  for (size_t k = size_t(d) + 1; k < s.size(); ++k) g.inner *= s[k];
  return g;
}

void check_input(const char* op, const Tensor& x) {
  check_defined(op, x, "x");
  check_float(op, x, "x");
}

// out_shape with dim d kept as 1 (keepdim) or removed.
Shape reduced_shape(const Shape& s, int64_t d, bool keepdim) {
  Shape out = s;
  if (out.empty()) return out;
  if (keepdim)
    out[size_t(d)] = 1;
  else
    out.erase(out.begin() + d);
  return out;
}

// y = scale · Σ over the middle dim of x viewed as (outer, n, inner); y must be contiguous
// with outer·inner elements.
void sum_kernel(const Tensor& x, const Tensor& y, const Geom& g, double scale) {
  if (x.is_cuda()) {
    SAKUGA_CUDA_ONLY(kernels::cuda::sum_dim(x.dtype(), x.raw(), y.raw(), g.outer, g.n, g.inner, scale, stream_of(x)));
  } else {
    dispatch_cpu_float("sum", x.dtype(), [&](auto t) {
      using T = decltype(t);
      kernels::cpu::sum_dim<T>(x.data<T>(), y.data<T>(), g.outer, g.n, g.inner, scale);
    });
  }
}

// Sum (mean when `mean`) over a set of dims. Maximal runs of adjacent reduced dims (size-1
// dims join a neighbouring run for free) become one (outer, n, inner) pass each, done from
// the last run to the first; the 1/count of the mean is applied in the last pass.
Tensor sum_mean(const char* op, const Tensor& x_in, const std::vector<int64_t>& dims, bool keepdim, bool mean) {
  check_input(op, x_in);
  Tensor x = x_in.contiguous();
  const Shape xs = x.shape();
  const int64_t nd = x.dim();
  std::vector<bool> red(size_t(nd), dims.empty());
  for (int64_t d : dims) {
    int64_t w = wrap_dim(op, d, nd);
    if (nd == 0) continue;
    SAKUGA_CHECK(!red[size_t(w)], op, ": dim ", d, " appears more than once in the reduced dims");
    red[size_t(w)] = true;
  }
  Shape out_shape, keep_shape;
  int64_t count = 1;
  for (int64_t d = 0; d < nd; ++d) {
    if (red[size_t(d)]) {
      count *= xs[size_t(d)];
      keep_shape.push_back(1);
      if (keepdim) out_shape.push_back(1);
    } else {
      keep_shape.push_back(xs[size_t(d)]);
      out_shape.push_back(xs[size_t(d)]);
    }
  }
  const double scale = mean ? (count > 0 ? 1.0 / double(count) : std::numeric_limits<double>::quiet_NaN()) : 1.0;

  // Runs [a, b) of dims that are reduced or of size 1, holding at least one reduced dim.
  std::vector<std::pair<int64_t, int64_t>> runs;
  for (int64_t d = 0; d < nd;) {
    auto joins = [&](int64_t k) { return red[size_t(k)] || xs[size_t(k)] == 1; };
    if (!joins(d)) {
      ++d;
      continue;
    }
    int64_t a = d;
    bool any = false;
    for (; d < nd && joins(d); ++d)
      if (red[size_t(d)]) any = true;
    if (any) runs.emplace_back(a, d);
  }

  Tensor cur = x;
  if (runs.empty()) {
    // Nothing to add up (0-dim input, or only size-1 dims): a scaled copy.
    Tensor y = Tensor::empty(out_shape, x.dtype(), x.device());
    sum_kernel(x, y, Geom{x.numel(), 1, 1}, scale);
    cur = y;
  }
  for (size_t k = runs.size(); k-- > 0;) {
    auto [a, b] = runs[k];
    Geom g;
    for (int64_t d = 0; d < a; ++d) g.outer *= xs[size_t(d)];
    g.n = 1;
    for (int64_t d = a; d < b; ++d) g.n *= xs[size_t(d)];
    for (int64_t d = b; d < nd; ++d)
      if (!(red[size_t(d)] || xs[size_t(d)] == 1)) g.inner *= xs[size_t(d)];
    const bool last = k == 0;
    Tensor y = last ? Tensor::empty(out_shape, x.dtype(), x.device())
                    : Tensor::empty({g.outer * g.inner}, x.dtype(), x.device());
    sum_kernel(cur, y, g, last ? scale : 1.0);
    cur = y;
  }

  const Shape in_shape = xs;
  return record(op, cur, {x}, [in_shape, keep_shape, mean, scale](const Tensor& gy, const Needs&) -> Grads {
    Tensor g = mean ? ops::mul(gy, scale) : gy;
    return {expand(reshape(g.contiguous(), keep_shape), in_shape).contiguous()};
  });
}

// Values and first index of the extremum along dim.
std::pair<Tensor, Tensor> extremum(const char* op, const Tensor& x_in, int64_t dim, bool keepdim, bool is_min,
                                   bool want_values) {
  check_input(op, x_in);
  Tensor x = x_in.contiguous();
  const int64_t d = wrap_dim(op, dim, x.dim());
  const Geom g = geom_around(x.shape(), d);
  SAKUGA_CHECK(g.n > 0, op, ": cannot reduce over dim ", dim, " of size 0 (input shape ", shape_str(x.shape()), ")");
  SAKUGA_CHECK(g.n <= std::numeric_limits<int32_t>::max(), op, ": dim ", dim, " too long for int32 indices");
  const Shape out_shape = reduced_shape(x.shape(), d, keepdim);
  Tensor values = want_values ? Tensor::empty(out_shape, x.dtype(), x.device()) : Tensor();
  Tensor index = Tensor::empty(out_shape, DType::i32, x.device());
  if (x.is_cuda()) {
    SAKUGA_CUDA_ONLY(kernels::cuda::extremum_dim(x.dtype(), x.raw(), want_values ? values.raw() : nullptr,
                                                 index.data<int32_t>(), g.outer, g.n, g.inner, is_min, stream_of(x)));
  } else {
    dispatch_cpu_float(op, x.dtype(), [&](auto t) {
      using T = decltype(t);
      kernels::cpu::extremum_dim<T>(x.data<T>(), want_values ? values.data<T>() : nullptr, index.data<int32_t>(),
                                    g.outer, g.n, g.inner, is_min);
    });
  }
  if (!want_values) return {Tensor(), index};
  const Shape in_shape = x.shape();
  Tensor saved_index = index;
  values = record(op, values, {x}, [in_shape, saved_index, g, op](const Tensor& gy_in, const Needs&) -> Grads {
    Tensor gy = gy_in.contiguous();
    Tensor gx = Tensor::empty(in_shape, gy.dtype(), gy.device());
    if (gy.is_cuda()) {
      SAKUGA_CUDA_ONLY(kernels::cuda::index_backward(gy.dtype(), gy.raw(), saved_index.data<int32_t>(), gx.raw(),
                                                     g.outer, g.n, g.inner, stream_of(gy)));
    } else {
      dispatch_cpu_float(op, gy.dtype(), [&](auto t) {
        using T = decltype(t);
        kernels::cpu::index_backward<T>(gy.data<T>(), saved_index.data<int32_t>(), gx.data<T>(), g.outer, g.n,
                                        g.inner);
      });
    }
    return {gx};
  });
  return {values, index};
}

Tensor softmax_impl(SoftmaxKind kind, const char* op, const Tensor& x_in, int64_t dim) {
  check_input(op, x_in);
  Tensor x = x_in.contiguous();
  const int64_t d = wrap_dim(op, dim, x.dim());
  const Geom g = geom_around(x.shape(), d);
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (x.is_cuda()) {
    SAKUGA_CUDA_ONLY(kernels::cuda::softmax_forward(kind, x.dtype(), x.raw(), y.raw(), g.outer, g.n, g.inner,
                                                    stream_of(x)));
  } else {
    dispatch_cpu_float(op, x.dtype(), [&](auto t) {
      using T = decltype(t);
      kernels::cpu::softmax_forward<T>(kind, x.data<T>(), y.data<T>(), g.outer, g.n, g.inner);
    });
  }
  Tensor saved_y = y.detach();
  return record(op, y, {x}, [kind, op, saved_y, g](const Tensor& gy_in, const Needs&) -> Grads {
    Tensor gy = gy_in.contiguous();
    Tensor gx = Tensor::empty(gy.shape(), gy.dtype(), gy.device());
    if (gy.is_cuda()) {
      SAKUGA_CUDA_ONLY(kernels::cuda::softmax_backward(kind, gy.dtype(), saved_y.raw(), gy.raw(), gx.raw(), g.outer,
                                                       g.n, g.inner, stream_of(gy)));
    } else {
      dispatch_cpu_float(op, gy.dtype(), [&](auto t) {
        using T = decltype(t);
        kernels::cpu::softmax_backward<T>(kind, saved_y.data<T>(), gy.data<T>(), gx.data<T>(), g.outer, g.n, g.inner);
      });
    }
    return {gx};
  });
}

}  // namespace

Tensor sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  return sum_mean("sum", x, dims, keepdim, false);
}

Tensor mean(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  return sum_mean("mean", x, dims, keepdim, true);
}

Tensor max(const Tensor& x, int64_t dim, bool keepdim) { return extremum("max", x, dim, keepdim, false, true).first; }

Tensor min(const Tensor& x, int64_t dim, bool keepdim) { return extremum("min", x, dim, keepdim, true, true).first; }

Tensor argmax(const Tensor& x, int64_t dim, bool keepdim) {
  return extremum("argmax", x, dim, keepdim, false, false).second;
}

Tensor softmax(const Tensor& x, int64_t dim) { return softmax_impl(SoftmaxKind::softmax, "softmax", x, dim); }

Tensor log_softmax(const Tensor& x, int64_t dim) {
  return softmax_impl(SoftmaxKind::log_softmax, "log_softmax", x, dim);
}

Tensor logsumexp(const Tensor& x_in, int64_t dim, bool keepdim) {
  const char* op = "logsumexp";
  check_input(op, x_in);
  Tensor x = x_in.contiguous();
  const int64_t d = wrap_dim(op, dim, x.dim());
  const Geom g = geom_around(x.shape(), d);
  Tensor y = Tensor::empty(reduced_shape(x.shape(), d, keepdim), x.dtype(), x.device());
  if (x.is_cuda()) {
    SAKUGA_CUDA_ONLY(kernels::cuda::logsumexp_forward(x.dtype(), x.raw(), y.raw(), g.outer, g.n, g.inner, stream_of(x)));
  } else {
    dispatch_cpu_float(op, x.dtype(), [&](auto t) {
      using T = decltype(t);
      kernels::cpu::logsumexp_forward<T>(x.data<T>(), y.data<T>(), g.outer, g.n, g.inner);
    });
  }
  Tensor sx = x.detach(), sy = y.detach();
  return record(op, y, {x}, [op, sx, sy, g](const Tensor& gy_in, const Needs&) -> Grads {
    Tensor gy = gy_in.contiguous();
    Tensor gx = Tensor::empty(sx.shape(), gy.dtype(), gy.device());
    if (gy.is_cuda()) {
      SAKUGA_CUDA_ONLY(kernels::cuda::logsumexp_backward(gy.dtype(), sx.raw(), sy.raw(), gy.raw(), gx.raw(), g.outer,
                                                         g.n, g.inner, stream_of(gy)));
    } else {
      dispatch_cpu_float(op, gy.dtype(), [&](auto t) {
        using T = decltype(t);
        kernels::cpu::logsumexp_backward<T>(sx.data<T>(), sy.data<T>(), gy.data<T>(), gx.data<T>(), g.outer, g.n,
                                            g.inner);
      });
    }
    return {gx};
  });
}

}  // namespace sakuga::ops
