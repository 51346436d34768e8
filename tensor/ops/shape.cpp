// Shape ops that move data: checks, device dispatch, and the backward recorded on the tape.
// concat/stack copy into slices of the output (strided copies) and take their gradient back as
// slices; pad, flip, gather and index_select have their own kernels (kernels/shape.h).
#include "tensor/ops/shape.h"

#include <algorithm>

#include "kernels/shape.h"
#include "tensor/autograd.h"
#include "tensor/dispatch.h"
#include "tensor/ops/view.h"

namespace sakuga::ops {

namespace {

void check_rank(const char* op, const Tensor& t, const char* arg) {
  SAKUGA_CHECK(t.dim() <= kernels::kMaxDims, op, ": '", arg, "' has rank ", t.dim(), ", at most ",
               kernels::kMaxDims, " is supported");
}

void check_index(const char* op, const Tensor& index, const Tensor& x) {
  check_defined(op, index, "index");
  SAKUGA_CHECK(index.dtype() == DType::i32, op, ": 'index' must be i32, got ", dtype_name(index.dtype()));
  SAKUGA_CHECK(index.device() == x.device(), op, ": 'index' is on ", index.device().str(), " but 'x' is on ",
               x.device().str());
}

// CPU only: every index of a contiguous i32 tensor must lie in [0, size). The CUDA kernels
// cannot throw without a host synchronisation: they read 0 for a bad index and set a deferred
// error flag instead (device::raise_deferred_errors reports it).
void check_index_values(const char* op, const char* what, const Tensor& index, int64_t size, const char* where) {
  const int32_t* p = index.data<int32_t>();
  for (int64_t i = 0; i < index.numel(); ++i)
    SAKUGA_CHECK(p[i] >= 0 && p[i] < size, op, ": ", what, " ", p[i], " at position ", i, " is out of range [0, ",
                 size, ") ", where);
}

}  // namespace

// ---- concat / stack ------------------------------------------------------------------------------

Tensor concat(const std::vector<Tensor>& xs, int64_t dim) {
  SAKUGA_CHECK(!xs.empty(), "concat: needs at least one tensor");
  for (size_t i = 0; i < xs.size(); ++i) check_defined("concat", xs[i], "xs[i]");
  const Tensor& x0 = xs[0];
  SAKUGA_CHECK(x0.dim() >= 1, "concat: tensors must have at least one dimension, got shape ", shape_str(x0.shape()));
  const int64_t d = wrap_dim("concat", dim, x0.dim());
  Shape out_shape = x0.shape();
  out_shape[size_t(d)] = 0;
  std::vector<int64_t> starts;
  for (size_t i = 0; i < xs.size(); ++i) {
    const Tensor& x = xs[i];
    SAKUGA_CHECK(x.dim() == x0.dim(), "concat: tensor ", i, " has shape ", shape_str(x.shape()), " but tensor 0 has ",
                 shape_str(x0.shape()), " (ranks differ)");
    SAKUGA_CHECK(x.dtype() == x0.dtype(), "concat: tensor ", i, " is ", dtype_name(x.dtype()), " but tensor 0 is ",
                 dtype_name(x0.dtype()));
    SAKUGA_CHECK(x.device() == x0.device(), "concat: tensor ", i, " is on ", x.device().str(), " but tensor 0 is on ",
                 x0.device().str());
    for (int64_t k = 0; k < x.dim(); ++k)
      SAKUGA_CHECK(k == d || x.size(k) == x0.size(k), "concat: tensor ", i, " has shape ", shape_str(x.shape()),
                   " but tensor 0 has ", shape_str(x0.shape()), "; they may differ only in dim ", d);
    starts.push_back(out_shape[size_t(d)]);
    out_shape[size_t(d)] += x.size(d);
  }
  Tensor out = Tensor::empty(out_shape, x0.dtype(), x0.device());
  {
    NoGradGuard ng;  // the slices are views of `out`, written in place
    for (size_t i = 0; i < xs.size(); ++i)
      if (xs[i].numel() > 0) strided_copy(xs[i], slice(out, d, starts[i], starts[i] + xs[i].size(d)));
  }
  std::vector<int64_t> sizes;
  for (const Tensor& x : xs) sizes.push_back(x.size(d));
  return record("concat", out, xs, [d, starts, sizes](const Tensor& g, const Needs& need) -> Grads {
    Grads gs(need.size());
    for (size_t i = 0; i < need.size(); ++i)
      if (need[i]) gs[i] = slice(g, d, starts[i], starts[i] + sizes[i]).contiguous();
    return gs;
  });
}

Tensor stack(const std::vector<Tensor>& xs, int64_t dim) {
  SAKUGA_CHECK(!xs.empty(), "stack: needs at least one tensor");
  for (size_t i = 0; i < xs.size(); ++i) {
    check_defined("stack", xs[i], "xs[i]");
    SAKUGA_CHECK(xs[i].shape() == xs[0].shape(), "stack: tensor ", i, " has shape ", shape_str(xs[i].shape()),
                 " but tensor 0 has shape ", shape_str(xs[0].shape()), "; all must be equal");
  }
  const int64_t d = wrap_dim("stack", dim, xs[0].dim() + 1);
  std::vector<Tensor> us;
  for (const Tensor& x : xs) us.push_back(unsqueeze(x, d));
  return concat(us, d);
}

// ---- pad ----------------------------------------------------------------------------------------

Tensor pad(const Tensor& x_in, const std::vector<int64_t>& pads, PadMode mode, double value) {
  check_defined("pad", x_in, "x");
  check_rank("pad", x_in, "x");
  const char* mname = mode == PadMode::zeros ? "zeros" : mode == PadMode::reflect ? "reflect" : "replicate";
  SAKUGA_CHECK(pads.size() % 2 == 0, "pad: 'pads' must hold (before, after) pairs, got ", pads.size(), " values");
  const int64_t npad = int64_t(pads.size()) / 2;
  SAKUGA_CHECK(npad <= x_in.dim(), "pad: ", pads.size(), " pads for ", npad, " dims but x has shape ",
               shape_str(x_in.shape()));
  if (mode != PadMode::zeros) {
    SAKUGA_CHECK(npad == 1 || npad == 2, "pad: ", mname, " mode pads the last 1 or 2 dims (2 or 4 pads), got ",
                 pads.size(), " pads");
    SAKUGA_CHECK(value == 0.0, "pad: 'value' is only used with PadMode::zeros, got ", value, " with ", mname);
  }
  const int nd = int(x_in.dim());
  kernels::PadGeom g;
  g.ndim = nd;
  g.mode = mode == PadMode::zeros ? kernels::PadKind::constant
           : mode == PadMode::reflect ? kernels::PadKind::reflect
                                      : kernels::PadKind::replicate;
  Shape out_shape = x_in.shape();
  for (int d = 0; d < nd; ++d) {
    g.in_shape[d] = x_in.size(d);
    g.out_shape[d] = x_in.size(d);
  }
  for (int64_t k = 0; k < npad; ++k) {
    const int d = nd - 1 - int(k);
    const int64_t before = pads[size_t(2 * k)], after = pads[size_t(2 * k + 1)], n = x_in.size(d);
    if (mode != PadMode::zeros) {
      SAKUGA_CHECK(before >= 0 && after >= 0, "pad: ", mname, " pads must be >= 0, got (", before, ", ", after,
                   ") for dim ", d);
      if (mode == PadMode::reflect)
        SAKUGA_CHECK(before < n && after < n, "pad: reflect padding (", before, ", ", after, ") of dim ", d,
                     " must be smaller than its size ", n, " (x has shape ", shape_str(x_in.shape()), ")");
      else
        SAKUGA_CHECK(n > 0 || (before == 0 && after == 0), "pad: replicate padding of dim ", d,
                     " needs a non-empty dim, x has shape ", shape_str(x_in.shape()));
    }
    const int64_t out_n = before + n + after;
    SAKUGA_CHECK(out_n >= 0, "pad: pads (", before, ", ", after, ") make dim ", d, " of size ", n, " negative");
    g.before[d] = before;
    g.out_shape[d] = out_n;
    out_shape[size_t(d)] = out_n;
  }
  Tensor x = x_in.contiguous();
  Tensor out = Tensor::empty(out_shape, x.dtype(), x.device());
  if (nd == 0) {  // nothing to pad: a copy
    strided_copy(x, out);
  } else {
    uint64_t value_bits = 0;  // the constant as one element of x's dtype
    kernels::cpu::fill(&value_bits, x.dtype(), 1, value);
    if (x.is_cuda()) {
      SAKUGA_CUDA_ONLY(kernels::cuda::pad_forward(x.dtype(), x.raw(), out.raw(), g, &value_bits, stream_of(x)));
    } else {
      kernels::cpu::pad_forward(x.dtype(), x.raw(), out.raw(), g, &value_bits);
    }
  }
  return record("pad", out, {x}, [g, nd, in_shape = x.shape()](const Tensor& gy_in, const Needs&) -> Grads {
    Tensor gy = gy_in.contiguous();
    if (nd == 0) return {gy.clone()};
    Tensor gx = Tensor::empty(in_shape, gy.dtype(), gy.device());
    if (gy.is_cuda()) {
      SAKUGA_CUDA_ONLY(kernels::cuda::pad_backward(gy.dtype(), gy.raw(), gx.raw(), g, stream_of(gy)));
    } else {
      dispatch_cpu_float("pad_backward", gy.dtype(), [&](auto t) {
        using T = decltype(t);
        kernels::cpu::pad_backward<T>(gy.data<T>(), gx.data<T>(), g);
      });
    }
    return {gx};
  });
}

// ---- flip ----------------------------------------------------------------------------------------

namespace {
Tensor flip_kernel(const Tensor& x_in, const kernels::FlipGeom& g) {
  Tensor x = x_in.contiguous();
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (x.dim() == 0) {
    strided_copy(x, out);
  } else if (x.is_cuda()) {
    SAKUGA_CUDA_ONLY(kernels::cuda::flip(x.dtype(), x.raw(), out.raw(), g, stream_of(x)));
  } else {
    kernels::cpu::flip(x.dtype(), x.raw(), out.raw(), g);
  }
  return out;
}
}  // namespace

Tensor flip(const Tensor& x_in, const std::vector<int64_t>& dims) {
  check_defined("flip", x_in, "x");
  check_rank("flip", x_in, "x");
  kernels::FlipGeom g;
  g.ndim = int(x_in.dim());
  for (int d = 0; d < g.ndim; ++d) g.shape[d] = x_in.size(d);
  for (int64_t dim : dims) {
    SAKUGA_CHECK(x_in.dim() > 0, "flip: cannot flip dim ", dim, " of a 0-dimensional tensor");
    const int64_t d = wrap_dim("flip", dim, x_in.dim());
    SAKUGA_CHECK(!g.flip[d], "flip: dim ", d, " appears more than once in dims");
    g.flip[d] = true;
  }
  Tensor x = x_in.contiguous();
  Tensor out = flip_kernel(x, g);
  return record("flip", out, {x}, [g](const Tensor& gy, const Needs&) -> Grads { return {flip_kernel(gy, g)}; });
}

// ---- gather --------------------------------------------------------------------------------------

Tensor gather(const Tensor& x_in, int64_t dim, const Tensor& index_in) {
  check_defined("gather", x_in, "x");
  check_rank("gather", x_in, "x");
  check_index("gather", index_in, x_in);
  SAKUGA_CHECK(x_in.dim() >= 1, "gather: 'x' must have at least one dimension");
  SAKUGA_CHECK(index_in.dim() == x_in.dim(), "gather: 'index' must have the rank of 'x' (", x_in.dim(),
               "), got index shape ", shape_str(index_in.shape()), " for x shape ", shape_str(x_in.shape()));
  const int64_t d = wrap_dim("gather", dim, x_in.dim());
  kernels::GatherGeom g;
  g.ndim = int(x_in.dim());
  g.dim = int(d);
  for (int k = 0; k < g.ndim; ++k) {
    SAKUGA_CHECK(k == d || index_in.size(k) <= x_in.size(k), "gather: index shape ", shape_str(index_in.shape()),
                 " exceeds x shape ", shape_str(x_in.shape()), " in dim ", k, " (only dim ", d, " may be larger)");
    g.x_shape[k] = x_in.size(k);
    g.index_shape[k] = index_in.size(k);
  }
  Tensor x = x_in.contiguous(), index = index_in.contiguous().detach();
  Tensor out = Tensor::empty(index.shape(), x.dtype(), x.device());
  if (x.is_cuda()) {
    SAKUGA_CUDA_ONLY(kernels::cuda::gather_forward(
        x.dtype(), x.raw(), index.data<int32_t>(), out.raw(), g,
        device::deferred_error_flag(x.device().index, device::DeferredError::gather_index), stream_of(x)));
  } else {
    check_index_values("gather", "index", index, x.size(d),
                       detail::concat("along dim ", d, " of x shape ", shape_str(x.shape())).c_str());
    kernels::cpu::gather_forward(x.dtype(), x.raw(), index.data<int32_t>(), out.raw(), g);
  }
  return record("gather", out, {x}, [g, index](const Tensor& gy_in, const Needs&) -> Grads {
    Tensor gy = gy_in.contiguous();
    Shape xs(g.x_shape, g.x_shape + g.ndim);
    Tensor gx = Tensor::empty(xs, gy.dtype(), gy.device());
    if (gy.is_cuda()) {
      SAKUGA_CUDA_ONLY(kernels::cuda::gather_backward(gy.dtype(), gy.raw(), index.data<int32_t>(), gx.raw(), g,
                                                      stream_of(gy)));
    } else {
      dispatch_cpu_float("gather_backward", gy.dtype(), [&](auto t) {
        using T = decltype(t);
        kernels::cpu::gather_backward<T>(gy.data<T>(), index.data<int32_t>(), gx.data<T>(), g);
      });
    }
    return {gx};
  });
}

// ---- index_select --------------------------------------------------------------------------------

Tensor index_select(const Tensor& x_in, int64_t dim, const Tensor& index_in) {
  check_defined("index_select", x_in, "x");
  check_index("index_select", index_in, x_in);
  SAKUGA_CHECK(x_in.dim() >= 1, "index_select: 'x' must have at least one dimension");
  SAKUGA_CHECK(index_in.dim() == 1, "index_select: 'index' must be 1-D, got shape ", shape_str(index_in.shape()));
  const int64_t d = wrap_dim("index_select", dim, x_in.dim());
  kernels::IndexSelectGeom g;
  for (int64_t k = 0; k < d; ++k) g.outer *= x_in.size(k);
  for (int64_t k = d + 1; k < x_in.dim(); ++k) g.inner *= x_in.size(k);
  g.n = x_in.size(d);
  g.len = index_in.numel();
  Shape out_shape = x_in.shape();
  out_shape[size_t(d)] = g.len;
  Tensor x = x_in.contiguous(), index = index_in.contiguous().detach();
  Tensor out = Tensor::empty(out_shape, x.dtype(), x.device());
  if (x.is_cuda()) {
    SAKUGA_CUDA_ONLY(kernels::cuda::index_select_forward(
        x.dtype(), x.raw(), index.data<int32_t>(), out.raw(), g,
        device::deferred_error_flag(x.device().index, device::DeferredError::index_select_index), stream_of(x)));
  } else {
    check_index_values("index_select", "index", index, g.n,
                       detail::concat("along dim ", d, " of x shape ", shape_str(x.shape())).c_str());
    kernels::cpu::index_select_forward(x.dtype(), x.raw(), index.data<int32_t>(), out.raw(), g);
  }
  return record("index_select", out, {x}, [g, index, xs = x.shape()](const Tensor& gy_in, const Needs&) -> Grads {
    Tensor gy = gy_in.contiguous();
    Tensor gx = Tensor::empty(xs, gy.dtype(), gy.device());
    if (gy.is_cuda()) {
      SAKUGA_CUDA_ONLY(kernels::cuda::index_select_backward(gy.dtype(), gy.raw(), index.data<int32_t>(), gx.raw(), g,
                                                            stream_of(gy)));
    } else {
      dispatch_cpu_float("index_select_backward", gy.dtype(), [&](auto t) {
        using T = decltype(t);
        kernels::cpu::index_select_backward<T>(gy.data<T>(), index.data<int32_t>(), gx.data<T>(), g);
      });
    }
    return {gx};
  });
}

// ---- one_hot -------------------------------------------------------------------------------------

Tensor one_hot(const Tensor& labels_in, int64_t classes, DType dtype) {
  check_defined("one_hot", labels_in, "labels");
  SAKUGA_CHECK(labels_in.dtype() == DType::i32, "one_hot: 'labels' must be i32, got ", dtype_name(labels_in.dtype()));
  SAKUGA_CHECK(classes > 0, "one_hot: 'classes' must be > 0, got ", classes);
  Tensor labels = labels_in.contiguous().detach();
  Shape out_shape = labels.shape();
  out_shape.push_back(classes);
  Tensor out = Tensor::empty(out_shape, dtype, labels.device());
  const int64_t n = labels.numel();
  if (labels.is_cuda()) {
    // No read back (it would stall the host every step): a bad label gives an all-zero row and
    // a deferred error that device::raise_deferred_errors reports.
    SAKUGA_CUDA_ONLY(kernels::cuda::one_hot(
        dtype, labels.data<int32_t>(), out.raw(), n, classes,
        device::deferred_error_flag(labels.device().index, device::DeferredError::one_hot_label), stream_of(labels)));
  } else {
    check_index_values("one_hot", "label", labels, classes, detail::concat("(classes = ", classes, ")").c_str());
    kernels::cpu::one_hot(dtype, labels.data<int32_t>(), out.raw(), n, classes);
  }
  return out;
}

}  // namespace sakuga::ops
