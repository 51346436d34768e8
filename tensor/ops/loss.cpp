// Loss ops with PyTorch's semantics. Cross entropy, NLL and BCE-with-logits have their own
// per-item kernels (kernels/loss.h); the reductions over items use the reduce ops, and
// mse/l1 are compositions of elementwise ops and mean.
#include "tensor/ops/loss.h"

#include "kernels/loss.h"
#include "tensor/autograd.h"
#include "tensor/dispatch.h"
#include "tensor/ops/elementwise.h"
#include "tensor/ops/reduce.h"
#include "tensor/ops/view.h"

namespace sakuga::ops {

namespace {

// none → the items; sum → Σ items; mean → Σ items / Σ item_weight when item weights are
// given (weighted / ignore_index mean, as PyTorch), else Σ items / count.
Tensor reduce_items(const Tensor& items, Reduction r, const Tensor& item_weight = Tensor()) {
  switch (r) {
    case Reduction::none: return items;
    case Reduction::sum: return sum(items);
    case Reduction::mean: return item_weight.defined() ? div(sum(items), sum(item_weight)) : mean(items);
  }
  SAKUGA_FAIL("loss: unknown reduction");
}

// Logits / log-probabilities (N, C, d1, …) or (C) against int32 targets (N, d1, …) or ().
struct ClassGeom {
  int64_t N = 1, C = 1, inner = 1;
  Shape item_shape;
};

ClassGeom class_geom(const char* op, const Tensor& input, const Tensor& target, const char* input_name) {
  check_defined(op, input, input_name);
  check_defined(op, target, "target");
  check_float(op, input, input_name);
  check_same_device(op, input, target);
  SAKUGA_CHECK(target.dtype() == DType::i32, op, ": 'target' must be an i32 tensor of class indices, got ",
               dtype_name(target.dtype()));
  SAKUGA_CHECK(input.dim() >= 1, op, ": '", input_name, "' must have shape (N, C, d1, ...) or (C), got ",
               shape_str(input.shape()));
  ClassGeom g;
  if (input.dim() == 1) {
    g.C = input.size(0);
  } else {
    g.N = input.size(0);
    g.C = input.size(1);
    g.item_shape.push_back(g.N);
    for (int64_t d = 2; d < input.dim(); ++d) {
      g.inner *= input.size(d);
      g.item_shape.push_back(input.size(d));
    }
  }
  SAKUGA_CHECK(g.C > 0, op, ": '", input_name, "' has no classes (shape ", shape_str(input.shape()), ")");
  SAKUGA_CHECK(target.shape() == g.item_shape, op, ": target shape ", shape_str(target.shape()),
               " does not match ", input_name, " shape ", shape_str(input.shape()), " (expected target shape ",
               shape_str(g.item_shape), ": the input shape without the class dim 1)");
  return g;
}

void check_class_weight(const char* op, const Tensor& input, const Tensor& weight, int64_t C) {
  if (!weight.defined()) return;
  check_same_device(op, input, weight);
  check_same_dtype(op, input, weight);
  SAKUGA_CHECK(weight.dim() == 1 && weight.numel() == C, op, ": 'weight' must have shape (", C,
               ") (one weight per class), got ", shape_str(weight.shape()));
  SAKUGA_CHECK(!(grad_enabled() && weight.requires_grad()), op,
               ": the gradient with respect to 'weight' is not implemented (pass weight.detach())");
}

// On the CPU every label is checked (clear error). On CUDA that would need a host
// synchronisation per call, so the kernels turn a bad label into a NaN loss instead and set a
// deferred error flag (device::raise_deferred_errors names the op).
void check_labels(const char* op, const Tensor& target, int64_t C, int64_t ignore_index) {
  if (target.is_cuda()) return;
  const int32_t* p = target.data<int32_t>();
  for (int64_t k = 0; k < target.numel(); ++k) {
    const int64_t y = p[k];
    if (y == ignore_index) continue;
    SAKUGA_CHECK(y >= 0 && y < C, op, ": target value ", y, " at flat index ", k, " is out of range [0, ", C,
                 ") (and is not ignore_index ", ignore_index, ")");
  }
}

}  // namespace

Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction r) {
  check_defined("mse_loss", input, "input");
  check_defined("mse_loss", target, "target");
  SAKUGA_CHECK(input.shape() == target.shape(), "mse_loss: target shape ", shape_str(target.shape()),
               " does not match input shape ", shape_str(input.shape()));
  return reduce_items(square(sub(input, target)), r);
}

Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction r) {
  check_defined("l1_loss", input, "input");
  check_defined("l1_loss", target, "target");
  SAKUGA_CHECK(input.shape() == target.shape(), "l1_loss: target shape ", shape_str(target.shape()),
               " does not match input shape ", shape_str(input.shape()));
  return reduce_items(abs(sub(input, target)), r);
}

Tensor bce_with_logits(const Tensor& logits, const Tensor& target, Reduction r, const Tensor& pos_weight) {
  const char* op = "bce_with_logits";
  check_defined(op, logits, "logits");
  check_defined(op, target, "target");
  check_float(op, logits, "logits");
  check_same_device(op, logits, target);
  check_same_dtype(op, logits, target);
  SAKUGA_CHECK(logits.shape() == target.shape(), op, ": target shape ", shape_str(target.shape()),
               " does not match logits shape ", shape_str(logits.shape()));
  Tensor x = logits.contiguous(), t = target.contiguous();
  Tensor pw;
  if (pos_weight.defined()) {
    check_same_device(op, logits, pos_weight);
    check_same_dtype(op, logits, pos_weight);
    Shape b = broadcast_shapes(op, pos_weight.shape(), x.shape());
    SAKUGA_CHECK(b == x.shape(), op, ": 'pos_weight' of shape ", shape_str(pos_weight.shape()),
                 " does not broadcast to the logits shape ", shape_str(x.shape()));
    pw = expand(pos_weight, x.shape()).contiguous();  // its gradient flows back through expand
  }
  const int64_t n = x.numel();
  Tensor loss = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (x.is_cuda()) {
    SAKUGA_CUDA_ONLY(kernels::cuda::bce_logits_forward(x.dtype(), x.raw(), t.raw(), pw.defined() ? pw.raw() : nullptr,
                                                       loss.raw(), n, stream_of(x)));
  } else {
    dispatch_cpu_float(op, x.dtype(), [&](auto tag) {
      using T = decltype(tag);
      kernels::cpu::bce_logits_forward<T>(x.data<T>(), t.data<T>(), pw.defined() ? pw.data<T>() : nullptr,
                                          loss.data<T>(), n);
    });
  }
  Tensor sx = x.detach(), st = t.detach(), spw = pw.defined() ? pw.detach() : Tensor();
  loss = record(op, loss, {x, t, pw}, [op, sx, st, spw, n](const Tensor& g_in, const Needs& need) -> Grads {
    Tensor g = g_in.contiguous();
    auto grad_or_empty = [&](bool on) { return on ? Tensor::empty(sx.shape(), g.dtype(), g.device()) : Tensor(); };
    Tensor gx = grad_or_empty(need[0]), gt = grad_or_empty(need[1]), gp = grad_or_empty(need[2] && spw.defined());
    if (g.is_cuda()) {
      SAKUGA_CUDA_ONLY(kernels::cuda::bce_logits_backward(
          g.dtype(), sx.raw(), st.raw(), spw.defined() ? spw.raw() : nullptr, g.raw(), gx.defined() ? gx.raw() : nullptr,
          gt.defined() ? gt.raw() : nullptr, gp.defined() ? gp.raw() : nullptr, n, stream_of(g)));
    } else {
      dispatch_cpu_float(op, g.dtype(), [&](auto tag) {
        using T = decltype(tag);
        kernels::cpu::bce_logits_backward<T>(sx.data<T>(), st.data<T>(), spw.defined() ? spw.data<T>() : nullptr,
                                             g.data<T>(), gx.defined() ? gx.data<T>() : nullptr,
                                             gt.defined() ? gt.data<T>() : nullptr,
                                             gp.defined() ? gp.data<T>() : nullptr, n);
      });
    }
    return {gx, gt, gp};
  });
  return reduce_items(loss, r);
}

Tensor cross_entropy(const Tensor& logits, const Tensor& target, const Tensor& weight, int64_t ignore_index,
                     Reduction r) {
  const char* op = "cross_entropy";
  const ClassGeom g = class_geom(op, logits, target, "logits");
  check_class_weight(op, logits, weight, g.C);
  Tensor x = logits.contiguous(), tgt = target.contiguous();
  check_labels(op, tgt, g.C, ignore_index);
  Tensor w = weight.defined() ? weight.contiguous().detach() : Tensor();
  Tensor loss = Tensor::empty(g.item_shape, x.dtype(), x.device());
  Tensor item_w = Tensor::empty(g.item_shape, x.dtype(), x.device());
  Tensor lse = Tensor::empty(g.item_shape, x.is_cuda() ? DType::f32 : x.dtype(), x.device());
  if (x.is_cuda()) {
    SAKUGA_CUDA_ONLY(kernels::cuda::cross_entropy_forward(
        x.dtype(), x.raw(), tgt.data<int32_t>(), w.defined() ? w.raw() : nullptr, loss.raw(), item_w.raw(),
        lse.data<float>(), g.N, g.C, g.inner, ignore_index,
        device::deferred_error_flag(x.device().index, device::DeferredError::cross_entropy_target), stream_of(x)));
  } else {
    dispatch_cpu_float(op, x.dtype(), [&](auto tag) {
      using T = decltype(tag);
      kernels::cpu::cross_entropy_forward<T>(x.data<T>(), tgt.data<int32_t>(), w.defined() ? w.data<T>() : nullptr,
                                             loss.data<T>(), item_w.data<T>(), lse.data<T>(), g.N, g.C, g.inner,
                                             ignore_index);
    });
  }
  Tensor sx = x.detach();
  loss = record(op, loss, {x}, [op, sx, tgt, w, lse, g, ignore_index](const Tensor& gl_in, const Needs&) -> Grads {
    Tensor gl = gl_in.contiguous();
    Tensor gx = Tensor::empty(sx.shape(), sx.dtype(), sx.device());
    if (gx.is_cuda()) {
      SAKUGA_CUDA_ONLY(kernels::cuda::cross_entropy_backward(
          sx.dtype(), sx.raw(), tgt.data<int32_t>(), w.defined() ? w.raw() : nullptr, lse.data<float>(), gl.raw(),
          gx.raw(), g.N, g.C, g.inner, ignore_index, stream_of(gx)));
    } else {
      dispatch_cpu_float(op, sx.dtype(), [&](auto tag) {
        using T = decltype(tag);
        kernels::cpu::cross_entropy_backward<T>(sx.data<T>(), tgt.data<int32_t>(), w.defined() ? w.data<T>() : nullptr,
                                                lse.data<T>(), gl.data<T>(), gx.data<T>(), g.N, g.C, g.inner,
                                                ignore_index);
      });
    }
    return {gx};
  });
  return reduce_items(loss, r, item_w);
}

Tensor nll_loss(const Tensor& log_probs, const Tensor& target, const Tensor& weight, int64_t ignore_index,
                Reduction r) {
  const char* op = "nll_loss";
  const ClassGeom g = class_geom(op, log_probs, target, "log_probs");
  check_class_weight(op, log_probs, weight, g.C);
  Tensor x = log_probs.contiguous(), tgt = target.contiguous();
  check_labels(op, tgt, g.C, ignore_index);
  Tensor w = weight.defined() ? weight.contiguous().detach() : Tensor();
  Tensor loss = Tensor::empty(g.item_shape, x.dtype(), x.device());
  Tensor item_w = Tensor::empty(g.item_shape, x.dtype(), x.device());
  if (x.is_cuda()) {
    SAKUGA_CUDA_ONLY(kernels::cuda::nll_forward(
        x.dtype(), x.raw(), tgt.data<int32_t>(), w.defined() ? w.raw() : nullptr, loss.raw(), item_w.raw(), g.N, g.C,
        g.inner, ignore_index, device::deferred_error_flag(x.device().index, device::DeferredError::nll_target),
        stream_of(x)));
  } else {
    dispatch_cpu_float(op, x.dtype(), [&](auto tag) {
      using T = decltype(tag);
      kernels::cpu::nll_forward<T>(x.data<T>(), tgt.data<int32_t>(), w.defined() ? w.data<T>() : nullptr,
                                   loss.data<T>(), item_w.data<T>(), g.N, g.C, g.inner, ignore_index);
    });
  }
  const Shape in_shape = x.shape();
  const DType dt = x.dtype();
  loss = record(op, loss, {x}, [op, in_shape, dt, tgt, w, g, ignore_index](const Tensor& gl_in, const Needs&) -> Grads {
    Tensor gl = gl_in.contiguous();
    Tensor gx = Tensor::empty(in_shape, dt, gl.device());
    if (gx.is_cuda()) {
      SAKUGA_CUDA_ONLY(kernels::cuda::nll_backward(dt, tgt.data<int32_t>(), w.defined() ? w.raw() : nullptr, gl.raw(),
                                                   gx.raw(), g.N, g.C, g.inner, ignore_index, stream_of(gx)));
    } else {
      dispatch_cpu_float(op, dt, [&](auto tag) {
        using T = decltype(tag);
        kernels::cpu::nll_backward<T>(tgt.data<int32_t>(), w.defined() ? w.data<T>() : nullptr, gl.data<T>(),
                                      gx.data<T>(), g.N, g.C, g.inner, ignore_index);
      });
    }
    return {gx};
  });
  return reduce_items(loss, r, item_w);
}

}  // namespace sakuga::ops
