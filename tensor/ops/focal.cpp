// Focal losses. The fused kernels (kernels/focal.h) compute each item's loss and its
// derivative with respect to the logits in one pass; the backward scales that saved derivative
// by the upstream gradient (per item for reduction none, a scalar for sum, scalar / count for
// mean). The derivative is saved only when the logits require a gradient.
#include "tensor/ops/focal.h"

#include <cmath>

#include "kernels/focal.h"
#include "tensor/autograd.h"
#include "tensor/dispatch.h"
#include "tensor/ops/elementwise.h"
#include "tensor/ops/reduce.h"
#include "tensor/ops/view.h"

namespace sakuga::ops {

namespace {

// The scalar loss of a sum / mean reduction over `items`, recorded as one op on `logits`
// whose backward is dlogits · g (sum) or dlogits · g / count (mean). For mean, count is
// either a 0-dim tensor (counted items, on the device) or, when undefined, the host value
// 1 / inv_count (every item counts).
Tensor reduce_fused(const char* op, const Tensor& logits, const Tensor& items, const Tensor& dlogits, Reduction r,
                    const Tensor& count, double inv_count = 1.0) {
  const bool mean = r == Reduction::mean;
  Tensor out;
  {
    NoGradGuard ng;
    out = sum(items);
    if (mean) out = count.defined() ? div(out, count) : mul(out, inv_count);
  }
  if (!dlogits.defined()) return out;
  Tensor d = dlogits, cnt = count;
  return record(op, out, {logits}, [d, cnt, mean, inv_count](const Tensor& g, const Needs&) -> Grads {
    Tensor scale = !mean ? g : cnt.defined() ? div(g, cnt) : mul(g, inv_count);
    return {mul(d, scale)};
  });
}

void check_gamma(const char* op, double gamma) {
  SAKUGA_CHECK(std::isfinite(gamma) && gamma >= 0, op, ": 'gamma' must be a finite value >= 0, got ", gamma);
}

}  // namespace

Tensor binary_focal_loss(const Tensor& logits, const Tensor& target, double gamma, double alpha, Reduction r) {
  const char* op = "binary_focal_loss";
  check_defined(op, logits, "logits");
  check_defined(op, target, "target");
  check_float(op, logits, "logits");
  check_same_device(op, logits, target);
  check_same_dtype(op, logits, target);
  SAKUGA_CHECK(logits.shape() == target.shape(), op, ": target shape ", shape_str(target.shape()),
               " does not match logits shape ", shape_str(logits.shape()));
  check_gamma(op, gamma);
  SAKUGA_CHECK(!std::isnan(alpha) && alpha <= 1, op,
               ": 'alpha' must be in [0, 1] (or < 0 for no alpha weighting), got ", alpha);
  SAKUGA_CHECK(!(grad_enabled() && target.requires_grad()), op,
               ": the gradient with respect to 'target' is not implemented (pass target.detach())");
  Tensor x = logits.contiguous(), t = target.contiguous().detach();
  const bool need = grad_enabled() && x.requires_grad();
  const int64_t n = x.numel();
  Tensor loss = Tensor::empty(x.shape(), x.dtype(), x.device());
  Tensor dl = need ? Tensor::empty(x.shape(), x.dtype(), x.device()) : Tensor();
  if (x.is_cuda()) {
    SAKUGA_CUDA_ONLY(kernels::cuda::binary_focal_forward(x.dtype(), x.raw(), t.raw(), n, gamma, alpha, loss.raw(),
                                                         dl.defined() ? dl.raw() : nullptr, stream_of(x)));
  } else {
    dispatch_cpu_float(op, x.dtype(), [&](auto tag) {
      using T = decltype(tag);
      kernels::cpu::binary_focal_forward<T>(x.data<T>(), t.data<T>(), n, gamma, alpha, loss.data<T>(),
                                            dl.defined() ? dl.data<T>() : nullptr);
    });
  }
  if (r == Reduction::none) {
    if (!need) return loss;
    return record(op, loss, {x}, [dl](const Tensor& g, const Needs&) -> Grads { return {mul(dl, g)}; });
  }
  return reduce_fused(op, x, loss, dl, r, Tensor(), n > 0 ? 1.0 / double(n) : std::nan(""));
}

Tensor softmax_focal_loss(const Tensor& logits, const Tensor& target, double gamma, const Tensor& weight,
                          int64_t ignore_index, Reduction r) {
  const char* op = "softmax_focal_loss";
  check_defined(op, logits, "logits");
  check_defined(op, target, "target");
  check_float(op, logits, "logits");
  check_same_device(op, logits, target);
  SAKUGA_CHECK(target.dtype() == DType::i32, op, ": 'target' must be an i32 tensor of class indices, got ",
               dtype_name(target.dtype()));
  SAKUGA_CHECK(logits.dim() >= 2, op, ": 'logits' must have shape (N, C) or (N, C, d1, ...), got ",
               shape_str(logits.shape()));
  const int64_t N = logits.size(0), C = logits.size(1);
  int64_t inner = 1;
  Shape item_shape{N};
  for (int64_t d = 2; d < logits.dim(); ++d) {
    inner *= logits.size(d);
    item_shape.push_back(logits.size(d));
  }
  SAKUGA_CHECK(C > 0, op, ": 'logits' has no classes (shape ", shape_str(logits.shape()), ")");
  SAKUGA_CHECK(target.shape() == item_shape, op, ": target shape ", shape_str(target.shape()),
               " does not match logits shape ", shape_str(logits.shape()), " (expected target shape ",
               shape_str(item_shape), ": the logits shape without the class dim 1)");
  check_gamma(op, gamma);
  Tensor w;
  if (weight.defined()) {
    check_same_device(op, logits, weight);
    check_same_dtype(op, logits, weight);
    SAKUGA_CHECK(weight.dim() == 1 && weight.numel() == C, op, ": 'weight' must have shape (", C,
                 ") (one weight per class), got ", shape_str(weight.shape()));
    SAKUGA_CHECK(!(grad_enabled() && weight.requires_grad()), op,
                 ": the gradient with respect to 'weight' is not implemented (pass weight.detach())");
    w = weight.contiguous().detach();
  }
  Tensor x = logits.contiguous(), tgt = target.contiguous();
  if (!tgt.is_cuda()) {  // on CUDA a bad label becomes a NaN loss and a deferred error (no host sync)
    const int32_t* p = tgt.data<int32_t>();
    for (int64_t k = 0; k < tgt.numel(); ++k) {
      const int64_t y = p[k];
      if (y == ignore_index) continue;
      SAKUGA_CHECK(y >= 0 && y < C, op, ": target value ", y, " at flat index ", k, " is out of range [0, ", C,
                   ") (and is not ignore_index ", ignore_index, ")");
    }
  }
  const bool need = grad_enabled() && x.requires_grad();
  Tensor loss = Tensor::empty(item_shape, x.dtype(), x.device());
  Tensor dl = need ? Tensor::empty(x.shape(), x.dtype(), x.device()) : Tensor();
  Tensor valid = r == Reduction::mean ? Tensor::empty(item_shape, x.dtype(), x.device()) : Tensor();
  auto ptr = [](const Tensor& t) { return t.defined() ? t.raw() : nullptr; };
  if (x.is_cuda()) {
    SAKUGA_CUDA_ONLY(kernels::cuda::softmax_focal_forward(x.dtype(), x.raw(), tgt.data<int32_t>(), ptr(w), N, C,
                                                          inner, gamma, ignore_index, loss.raw(), ptr(dl), ptr(valid),
                                                          device::deferred_error_flag(
                                                              x.device().index, device::DeferredError::focal_target),
                                                          stream_of(x)));
  } else {
    dispatch_cpu_float(op, x.dtype(), [&](auto tag) {
      using T = decltype(tag);
      kernels::cpu::softmax_focal_forward<T>(x.data<T>(), tgt.data<int32_t>(), w.defined() ? w.data<T>() : nullptr,
                                             N, C, inner, gamma, ignore_index, loss.data<T>(),
                                             dl.defined() ? dl.data<T>() : nullptr,
                                             valid.defined() ? valid.data<T>() : nullptr);
    });
  }
  if (r == Reduction::none) {
    if (!need) return loss;
    Shape g_shape = item_shape;
    g_shape.insert(g_shape.begin() + 1, 1);  // (N, 1, d1, ...): broadcast over the classes
    return record(op, loss, {x}, [dl, g_shape](const Tensor& g, const Needs&) -> Grads {
      return {mul(dl, reshape(g.contiguous(), g_shape))};
    });
  }
  Tensor count;
  if (r == Reduction::mean) {
    NoGradGuard ng;
    count = sum(valid);
  }
  return reduce_fused(op, x, loss, dl, r, count);
}

}  // namespace sakuga::ops
